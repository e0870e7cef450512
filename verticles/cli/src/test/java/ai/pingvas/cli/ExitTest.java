package ai.pingvas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

class ExitTest {
  @Test
  void mapsHttpStatusesToDocumentedExitCodes() {
    assertThat(Exit.forStatus(401, "unauthorized")).isEqualTo(Exit.AUTH);
    assertThat(Exit.forStatus(403, "forbidden")).isEqualTo(Exit.AUTH);
    assertThat(Exit.forStatus(404, "not_found")).isEqualTo(Exit.NOT_FOUND);
    assertThat(Exit.forStatus(400, "validation_failed")).isEqualTo(Exit.USAGE);
    assertThat(Exit.forStatus(422, "validation_failed")).isEqualTo(Exit.USAGE);
    assertThat(Exit.forStatus(422, "unknown_model")).isEqualTo(Exit.REFUSED);
    assertThat(Exit.forStatus(402, "insufficient_credits")).isEqualTo(Exit.REFUSED);
    assertThat(Exit.forStatus(409, "job_finished")).isEqualTo(Exit.REFUSED);
    assertThat(Exit.forStatus(429, "rate_limited")).isEqualTo(Exit.REFUSED);
    assertThat(Exit.forStatus(503, null)).isEqualTo(Exit.SERVER);
  }

  @Test
  void readsTheProblemDetailCodeAndFieldErrors() {
    CliException e = ApiClient.problem(400, """
        {"type":"x","title":"Bad request","status":400,"code":"validation_failed","detail":"the body is invalid",
         "errors":[{"pointer":"/width","detail":"must be a multiple of 8"}]}""", "POST /v1/generations");
    assertThat(e.exitCode()).isEqualTo(Exit.USAGE);
    assertThat(e.getMessage()).contains("the body is invalid", "/width: must be a multiple of 8", "[validation_failed]");
    assertThat(ApiClient.problem(502, "<html>bad gateway</html>", "GET /v1/images").getMessage())
        .isEqualTo("GET /v1/images: HTTP 502");
  }

  @Test
  void drawsProgressAsABar() {
    JobState job = new JobState(JsonParser.parseString("""
        {"id":"0b6f3c2e-0000-4000-8000-000000000000","status":"running","progress":{"step":15,"total":30,"percent":50.0}}
        """).getAsJsonObject());
    assertThat(ProgressDisplay.line(job)).isEqualTo("0b6f3c2e  running   [###############---------------]  50%  step 15/30");
    job.apply("job.failed", JsonParser.parseString("{\"error\":{\"code\":\"out_of_memory\",\"message\":\"CUDA OOM\"}}")
        .getAsJsonObject());
    assertThat(job.terminal()).isTrue();
    assertThat(ProgressDisplay.line(job)).endsWith("out_of_memory: CUDA OOM");
  }
}
