package ai.pingvas.models;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.models.Stack.Response;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router refuses jobs against the registry (unknown model, LoRA of another base), learns new
 * models at once, and reports which workers hold which models back to model-service.
 */
class ModelCheckIT {
  private static Stack stack;
  private static String admin;
  private static String user;

  @BeforeAll
  static void start() {
    stack = new Stack("check").startModels().startRouter();
    admin = stack.createUser("studio", true);
    user = stack.createUser("pro", false);
    stack.models("POST", "/v1/models", admin, stack.model("chk-sd15", "checkpoint", "sd-1.5"));
    stack.models("POST", "/v1/models", admin, stack.model("chk-sd15-lora", "lora", "sd-1.5"));
    stack.models("POST", "/v1/models", admin, stack.model("chk-xl-lora", "lora", "sdxl"));
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  private static Response submit(String model, String... loras) {
    JsonArray loraJson = new JsonArray();
    for (String lora : loras) {
      loraJson.add(new JsonObject().put("name", lora).put("weight", 0.7));
    }
    return stack.router("POST", "/v1/generations", user, new JsonObject().put("model", model)
        .put("prompt", "a quiet harbour").put("width", 64).put("height", 64).put("steps", 2)
        .put("loras", loraJson).encode());
  }

  @Test
  void refusesAnUnknownModelWith422() {
    Response refused = submit("no-such-model");
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.json().getString("code")).isEqualTo("unknown_model");
    assertThat(submit("chk-sd15", "no-such-lora").json().getString("code")).isEqualTo("unknown_model");
  }

  @Test
  void refusesALoraOfAnotherBaseWith422() {
    Response refused = submit("chk-sd15", "chk-xl-lora");
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.json().getString("code")).isEqualTo("model_incompatible");
    assertThat(submit("chk-sd15", "chk-sd15-lora").status()).isEqualTo(202);
  }

  @Test
  void acceptsAModelRegisteredAMomentAgo() {
    assertThat(stack.models("POST", "/v1/models", admin, stack.model("chk-fresh", "checkpoint", "sdxl"))
        .status()).isEqualTo(201);
    assertThat(submit("chk-fresh").status()).isEqualTo(202);
  }

  @Test
  void workersHoldingsFollowTheirHeartbeats() throws Exception {
    stack.models("POST", "/v1/models", admin, stack.model("chk-held", "checkpoint", "sd-1.5"));
    var worker = stack.startWorker("holder-1");
    String id = submit("chk-held").json().getString("id");
    awaitUntil(() -> "succeeded".equals(stack.router("GET", "/v1/generations/" + id, user, null).json()
        .getString("status")), "job " + id + " to succeed");

    awaitUntil(() -> stack.models("GET", "/v1/models/chk-held", user, null).json().getJsonArray("workers")
        .contains("holder-1"), "model-service to learn that holder-1 holds chk-held");
    JsonObject listed = stack.models("GET", "/v1/models?kind=checkpoint", user, null).json().getJsonArray("items")
        .stream().map(JsonObject.class::cast).filter(m -> m.getString("name").equals("chk-held")).findFirst()
        .orElseThrow();
    assertThat(listed.getInteger("loaded_on")).isEqualTo(1);

    Stack.join(worker.close());
    awaitUntil(() -> stack.models("GET", "/v1/models/chk-held", user, null).json().getJsonArray("workers").isEmpty(),
        "model-service to drop holder-1 once it disconnected");
  }

  static void awaitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }
}
