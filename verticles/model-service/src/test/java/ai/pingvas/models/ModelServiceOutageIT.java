package ai.pingvas.models;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What submissions do while model-service is down: the router's last copy decides, or none does. */
class ModelServiceOutageIT {
  private Stack stack;

  @AfterEach
  void stop() {
    stack.close();
  }

  private static String job(String model) {
    return new JsonObject().put("model", model).put("prompt", "fog").put("width", 64).put("height", 64)
        .put("steps", 1).encode();
  }

  @Test
  void lastCopyKeepsDecidingWhileModelServiceIsDown() throws Exception {
    stack = new Stack("outage_copy").startModels().startRouter();
    String admin = stack.createUser("studio", true);
    stack.models("POST", "/v1/models", admin, stack.model("out-known", "checkpoint", "sd-1.5"));
    // The router learns the new model through a refresh on the miss, then model-service goes away.
    assertThat(stack.router("POST", "/v1/generations", admin, job("out-known")).status()).isEqualTo(202);
    stack.stopModels();

    assertThat(stack.router("POST", "/v1/generations", admin, job("out-known")).status()).isEqualTo(202);
    Stack.Response unknown = stack.router("POST", "/v1/generations", admin, job("out-unknown"));
    assertThat(unknown.status()).isEqualTo(422);
    assertThat(unknown.json().getString("code")).isEqualTo("unknown_model");
  }

  /**
   * S3 does not answer (here: nothing listens at its endpoint): a registration cannot be checked,
   * so it is refused with a 503 to retry, not stored unchecked and not a 500.
   */
  @Test
  void registrationsWaitForStorageToAnswer() throws Exception {
    stack = new Stack("outage_s3");
    try (java.net.ServerSocket closed = new java.net.ServerSocket(0)) {
      stack.modelEnv.put("PINGVAS_STORAGE_ENDPOINT", "http://127.0.0.1:" + closed.getLocalPort());
    }
    stack.modelEnv.put("PINGVAS_STORAGE_CHECK_TIMEOUT", "2s");
    stack.startModels();
    String admin = stack.createUser("studio", true);
    Stack.Response refused = stack.models("POST", "/v1/models", admin, stack.model("s3-away", "checkpoint", "sdxl"));
    assertThat(refused.status()).as(refused.body()).isEqualTo(503);
    assertThat(refused.json().getString("code")).isEqualTo("storage_unavailable");
    assertThat(refused.json().getString("detail")).contains("s3://pingvas-models/s3-away.safetensors");
    assertThat(stack.models("GET", "/v1/models/s3-away", admin, null).status()).isEqualTo(404);
  }

  @Test
  void withoutAnyCopyJobsPassUnchecked() {
    stack = new Stack("outage_none").startRouter();
    String user = stack.createUser("pro", false);
    assertThat(stack.router("POST", "/v1/generations", user, job("anything-goes")).status()).isEqualTo(202);
  }
}
