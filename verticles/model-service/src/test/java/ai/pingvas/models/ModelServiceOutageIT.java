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

  @Test
  void withoutAnyCopyJobsPassUnchecked() {
    stack = new Stack("outage_none").startRouter();
    String user = stack.createUser("pro", false);
    assertThat(stack.router("POST", "/v1/generations", user, job("anything-goes")).status()).isEqualTo(202);
  }
}
