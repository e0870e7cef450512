package ai.pingvas.models;

import static ai.pingvas.models.ModelCheckIT.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.worker.engine.invokeai.FakeInvokeAi;
import ai.pingvas.worker.engine.invokeai.ModelObjects;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model registered a moment ago, its weights in S3, runs on an InvokeAI worker that never had it:
 * the router's assign says where the registry keeps it, the worker presigns a GET with its own
 * credentials, and InvokeAI (the fake, which really downloads) installs exactly the stored bytes.
 * Real model-service, router, user-service and worker; real S3 API (s3proxy).
 */
class RegistryModelInstallIT {
  private static Stack stack;
  private static FakeInvokeAi invokeai;
  private static String admin;
  private static String user;

  @BeforeAll
  static void start() {
    Stack created = new Stack("install");
    // a failed attempt waits 2-4 s before its retry: time enough to upload missing weights
    created.routerEnv.put("PINGVAS_RETRY_BACKOFF_BASE", "4s");
    stack = created.startModels().startRouter();
    admin = stack.createUser("studio", true);
    user = stack.createUser("pro", false);
    invokeai = new FakeInvokeAi(Ports.free()).start();
    stack.startWorker("invokeai-1", Map.of(
        "PINGVAS_WORKER_ENGINE", "invokeai",
        "PINGVAS_INVOKEAI_URL", "http://127.0.0.1:" + invokeai.port,
        "PINGVAS_INVOKEAI_POLL_INTERVAL", "100ms",
        "PINGVAS_GPU_NVIDIA_SMI", "",
        "PINGVAS_STORAGE_ENDPOINT", stack.infra.s3().endpoint(),
        "PINGVAS_STORAGE_PATH_STYLE", "true",
        "PINGVAS_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY,
        "PINGVAS_STORAGE_SECRET_KEY", S3Server.SECRET_KEY));
  }

  @AfterAll
  static void stop() {
    stack.close();
    invokeai.close();
  }

  @Test
  void aRegisteredModelIsInstalledOnAWorkerThatNeverHadIt() throws Exception {
    String name = "inst-xl";
    byte[] weights = ModelObjects.put(stack.infra.s3().endpoint(), "pingvas-models", name + ".safetensors", 250_000);
    assertThat(stack.models("POST", "/v1/models", admin, ModelRegistryIT.model(name, "checkpoint", "sdxl")).status())
        .isEqualTo(201);

    String first = submit(name);
    awaitUntil(() -> "succeeded".equals(status(first)), "job " + first + " to succeed");

    String objectUrl = stack.infra.s3().endpoint() + "/pingvas-models/" + name + ".safetensors";
    assertThat(installsOf(name)).hasSize(1);
    assertThat(installsOf(name).get(0)).startsWith(objectUrl + "?").contains("X-Amz-Signature=");
    assertThat(invokeai.downloaded.get(objectUrl)).isEqualTo(ModelObjects.sha256(weights));

    // the worker holds the checkpoint now; a LoRA registered later is installed beside it, the
    // checkpoint is not installed again
    byte[] lora = ModelObjects.put(stack.infra.s3().endpoint(), "pingvas-models", "inst-ink.safetensors", 40_000);
    assertThat(stack.models("POST", "/v1/models", admin, ModelRegistryIT.model("inst-ink", "lora", "sdxl")).status())
        .isEqualTo(201);
    String second = submit(name, "inst-ink");
    awaitUntil(() -> "succeeded".equals(status(second)), "job " + second + " to succeed");
    assertThat(installsOf(name)).hasSize(1);
    assertThat(installsOf("inst-ink")).hasSize(1);
    assertThat(invokeai.downloaded.get(stack.infra.s3().endpoint() + "/pingvas-models/inst-ink.safetensors"))
        .isEqualTo(ModelObjects.sha256(lora));

    String third = submit(name, "inst-ink");
    awaitUntil(() -> "succeeded".equals(status(third)), "job " + third + " to succeed");
    assertThat(installsOf(name)).hasSize(1);
    assertThat(installsOf("inst-ink")).hasSize(1);
  }

  /**
   * Registering before the weights are uploaded is refused. Weights removed from the bucket after
   * registration (an operator's mistake) fail the first install; put back during the retry's
   * backoff, they are installed on attempt 2 and the job succeeds.
   */
  @Test
  void weightsMissingAtInstallAreInstalledWhenTheJobIsRetriedAfterTheyAreBack() throws Exception {
    String name = "late-xl";
    String key = name + ".safetensors";
    Stack.Response early = stack.models("POST", "/v1/models", admin, ModelRegistryIT.model(name, "checkpoint", "sdxl"));
    assertThat(early.status()).as(early.body()).isEqualTo(422);
    assertThat(early.json().getString("code")).isEqualTo("model_source_missing");

    ModelObjects.put(stack.infra.s3().endpoint(), "pingvas-models", key, 120_000);
    assertThat(stack.models("POST", "/v1/models", admin, ModelRegistryIT.model(name, "checkpoint", "sdxl")).status())
        .isEqualTo(201);
    ModelObjects.delete(stack.infra.s3().endpoint(), "pingvas-models", key);
    String id = submit(name);
    // nothing at the source: InvokeAI's download answers Not Found and the attempt fails (retryable)
    awaitUntil(() -> "error".equals(invokeai.installStatus(name)), "the first install of " + name + " to fail");
    byte[] weights = ModelObjects.put(stack.infra.s3().endpoint(), "pingvas-models", key, 120_000);

    // the retry (after its backoff) goes to the same worker, which has not reported the model: the
    // assign names the source again and the install succeeds
    awaitUntil(() -> "succeeded".equals(status(id)), "job " + id + " to succeed on its retry");
    JsonObject job = stack.router("GET", "/v1/generations/" + id, user, null).json();
    assertThat(job.getInteger("attempt")).isEqualTo(2);
    assertThat(installsOf(name)).hasSize(2);
    assertThat(invokeai.downloaded.get(stack.infra.s3().endpoint() + "/pingvas-models/" + key))
        .isEqualTo(ModelObjects.sha256(weights));
  }

  /** The sources InvokeAI was asked to install the model from, in order. */
  private static java.util.List<String> installsOf(String name) {
    return invokeai.installs.stream().filter(i -> name.equals(i.getJsonObject("body").getString("name")))
        .map(i -> i.getString("source")).toList();
  }

  private static String submit(String model, String... loras) {
    JsonArray loraJson = new JsonArray();
    for (String lora : loras) {
      loraJson.add(new JsonObject().put("name", lora).put("weight", 0.6));
    }
    Stack.Response r = stack.router("POST", "/v1/generations", user, new JsonObject().put("model", model)
        .put("prompt", "a lighthouse at dusk").put("width", 64).put("height", 64).put("steps", 2)
        .put("loras", loraJson).encode());
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    return r.json().getString("id");
  }

  private static String status(String id) {
    JsonObject job = stack.router("GET", "/v1/generations/" + id, user, null).json();
    if ("failed".equals(job.getString("status"))) {
      throw new AssertionError("job " + id + " failed: " + job.encode());
    }
    return job.getString("status");
  }
}
