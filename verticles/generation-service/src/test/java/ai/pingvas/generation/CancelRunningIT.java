package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.ApiClient.EventStream;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Canceling a running job stops its worker at the next step and frees the slot at once. */
class CancelRunningIT {
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    // one worker, one slot, 100 ms per step
    harness = new RouterHarness("cancelrunning").startedWithWorker("only-worker",
        Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void cancelsARunningJobAndFreesItsSlotAtOnce() {
    String key = harness.createUser("pro");
    try (EventStream stream = api.stream(key)) {
      String body = "{\"model\": \"sd-1.5\", \"prompt\": \"a long job\", \"steps\": 100, \"width\": 64, \"height\": 64}";
      String running = api.post("/v1/generations", key, body).json().getString("id");
      stream.awaitEvent(e -> running.equals(e.getString("job_id")) && "job.progress".equals(e.getString("type")),
          Duration.ofSeconds(15));

      long canceledAt = System.nanoTime();
      ApiClient.Response canceled = api.post("/v1/generations/" + running + "/cancel", key, "");
      assertThat(canceled.status()).isEqualTo(200);
      assertThat(canceled.json().getString("status")).isEqualTo("canceled");

      // the only slot is free at once: the next job starts long before the canceled one would have ended (10 s)
      String next = api.post("/v1/generations", key,
          "{\"model\": \"sd-1.5\", \"prompt\": \"next\", \"steps\": 3, \"width\": 64, \"height\": 64}").json().getString("id");
      stream.awaitEvent(e -> next.equals(e.getString("job_id")) && "job.succeeded".equals(e.getString("type")),
          Duration.ofSeconds(8));
      assertThat(Duration.ofNanos(System.nanoTime() - canceledAt)).isLessThan(Duration.ofSeconds(8));

      stream.awaitEvent(e -> running.equals(e.getString("job_id")) && "job.canceled".equals(e.getString("type")),
          Duration.ofSeconds(5));
      JsonObject after = api.get("/v1/generations/" + running, key).json();
      assertThat(after.getString("status")).isEqualTo("canceled");
      assertThat(after.getJsonArray("images")).isEmpty();
      assertThat(stream.forJob(running)).noneMatch(e -> "job.succeeded".equals(e.getString("type")));
      int stepAtCancel = after.getJsonObject("progress").getInteger("step");
      assertThat(stepAtCancel).isLessThan(100);
    }
  }
}
