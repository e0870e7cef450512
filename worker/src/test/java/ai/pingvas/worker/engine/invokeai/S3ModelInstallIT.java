package ai.pingvas.worker.engine.invokeai;

import static ai.pingvas.worker.engine.invokeai.InvokeAiEngineIT.failure;
import static ai.pingvas.worker.engine.invokeai.InvokeAiEngineIT.join;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.protocol.JobSpec;
import ai.pingvas.protocol.LoraRef;
import ai.pingvas.worker.engine.CancelSignal;
import ai.pingvas.worker.engine.Engine.RenderedImage;
import ai.pingvas.worker.engine.EngineException;
import ai.pingvas.worker.engine.ModelLru;
import ai.pingvas.worker.engine.ModelSizes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model the registry keeps in S3 ({@code s3://bucket/key}, sent by the router in the job's
 * {@code model_sources}) is installed into InvokeAI from a URL the worker presigns with its own
 * credentials; InvokeAI (the fake, which really downloads it) gets the object's exact bytes. A real
 * S3 API (s3proxy) holds the weights.
 */
class S3ModelInstallIT {
  private static final String BUCKET = "pingvas-models";
  private static S3Server s3;
  private final Vertx vertx = Vertx.vertx();
  private FakeInvokeAi fake;
  private InvokeAiEngine engine;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Server.start(Files.createTempDirectory("pingvas-s3-models"), 0, List.of(BUCKET));
  }

  @AfterAll
  static void stopS3() {
    s3.close();
  }

  @AfterEach
  void stop() {
    InvokeAiEngineIT.closeAll(engine, vertx, fake);
  }

  private void start(Map<String, String> configured, String secretKey) {
    fake = new FakeInvokeAi(Ports.free()).start();
    InvokeAiSettings settings = new InvokeAiSettings("http://127.0.0.1:" + fake.port, "default", true,
        Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(10), configured);
    ModelDownloads downloads = new ModelDownloads(vertx, S3Server.REGION, s3.endpoint(), true, S3Server.ACCESS_KEY,
        secretKey, Duration.ofMinutes(10));
    engine = new InvokeAiEngine(vertx, settings, downloads, new ModelLru(20_000, 4), new ModelSizes(List.of(), 3000),
        registry);
    join(engine.start());
  }

  @Test
  void installsAModelTheRegistryKeepsInS3FromAPresignedUrl() throws Exception {
    String key = "checkpoints/sdxl/studio-xl-" + UUID.randomUUID() + ".safetensors";
    byte[] weights = put(key, 300_000);
    String loraKey = "loras/sdxl/ink-" + UUID.randomUUID() + ".safetensors";
    byte[] loraWeights = put(loraKey, 20_000);
    start(Map.of(), S3Server.SECRET_KEY);

    List<RenderedImage> images = join(generate(job("studio-xl", List.of(new LoraRef("ink", 0.6)),
        Map.of("studio-xl", "s3://" + BUCKET + "/" + key, "ink", "s3://" + BUCKET + "/" + loraKey))));

    assertThat(images).hasSize(1);
    assertThat(fake.installs).hasSize(2);
    String objectUrl = s3.endpoint() + "/" + BUCKET + "/" + key;
    String install = fake.installs.stream().map(i -> i.getString("source")).filter(s -> s.startsWith(objectUrl + "?"))
        .findFirst().orElseThrow(() -> new AssertionError("no install from " + objectUrl + ": " + fake.installs));
    assertThat(install).contains("X-Amz-Signature=").contains("X-Amz-Expires=600");
    // InvokeAI downloaded exactly the object's bytes, for both the checkpoint and the LoRA
    assertThat(fake.downloaded.get(objectUrl)).isEqualTo(sha256(weights));
    assertThat(fake.downloaded.get(s3.endpoint() + "/" + BUCKET + "/" + loraKey)).isEqualTo(sha256(loraWeights));
    assertThat(fake.installs).anyMatch(i -> i.getJsonObject("body").getString("name").equals("studio-xl"))
        .anyMatch(i -> i.getJsonObject("body").getString("name").equals("ink"));

    // installed once: the next job of the model finds it (its assign may still name the source)
    join(generate(job("studio-xl", List.of(), Map.of("studio-xl", "s3://" + BUCKET + "/" + key))));
    assertThat(fake.installs).hasSize(2);
    assertThat(installs("registry", "completed")).isEqualTo(2);
    assertThat(registry.get("pingvas_worker_model_install_seconds").timer().count()).isEqualTo(2);
  }

  @Test
  void aSourceConfiguredOnTheWorkerWinsOverTheRegistry() throws Exception {
    String key = "checkpoints/sdxl/other-" + UUID.randomUUID() + ".safetensors";
    put(key, 1_000);
    start(Map.of("pinned-xl", "/models/sdxl/pinned-xl.safetensors"), S3Server.SECRET_KEY);
    join(generate(job("pinned-xl", List.of(), Map.of("pinned-xl", "s3://" + BUCKET + "/" + key))));
    assertThat(fake.installs).hasSize(1);
    assertThat(fake.installs.get(0).getString("source")).isEqualTo("/models/sdxl/pinned-xl.safetensors");
    assertThat(fake.downloaded).isEmpty();
    assertThat(installs("configured", "completed")).isEqualTo(1);
    assertThat(installs("registry", "completed")).isZero();
  }

  @Test
  void aMissingObjectFailsTheAttemptRetryableWithoutLeakingTheSignature() {
    start(Map.of(), S3Server.SECRET_KEY);
    String source = "s3://" + BUCKET + "/checkpoints/sdxl/never-uploaded.safetensors";
    EngineException missing = failure(generate(job("ghost-xl", List.of(), Map.of("ghost-xl", source))));
    assertThat(missing.code()).isEqualTo("model_install_failed");
    assertThat(missing.retryable()).isTrue();
    assertThat(missing.getMessage()).contains(source).contains("HTTPError: Not Found")
        .doesNotContain("X-Amz-Signature");
    assertThat(installs("registry", "failed")).isEqualTo(1);
  }

  @Test
  void aUrlSignedWithWrongCredentialsFailsTheInstall() throws Exception {
    String key = "checkpoints/sdxl/locked-" + UUID.randomUUID() + ".safetensors";
    put(key, 1_000);
    start(Map.of(), "not-the-secret");
    EngineException refused = failure(generate(job("locked-xl", List.of(),
        Map.of("locked-xl", "s3://" + BUCKET + "/" + key))));
    assertThat(refused.code()).isEqualTo("model_install_failed");
    assertThat(refused.getMessage()).contains("HTTPError: Forbidden").doesNotContain("X-Amz-Signature");
    assertThat(fake.downloaded).isEmpty();
  }

  @Test
  void aModelWithoutAnySourceIsUnavailable() {
    start(Map.of(), S3Server.SECRET_KEY);
    EngineException e = failure(generate(job("nowhere-xl", List.of(), Map.of())));
    assertThat(e.code()).isEqualTo("model_unavailable");
    assertThat(e.getMessage()).contains("registry keeps no source");
    assertThat(fake.installs).isEmpty();
  }

  private double installs(String from, String outcome) {
    var counter = registry.find("pingvas_worker_model_installs_total").tag("from", from).tag("outcome", outcome)
        .counter();
    return counter == null ? 0 : counter.count();
  }

  private static byte[] put(String key, int size) throws Exception {
    return ModelObjects.put(s3.endpoint(), BUCKET, key, size);
  }

  private static String sha256(byte[] bytes) throws Exception {
    return ModelObjects.sha256(bytes);
  }

  private static JobSpec job(String model, List<LoraRef> loras, Map<String, String> sources) {
    return new JobSpec(UUID.randomUUID().toString(), 1, model, "a lighthouse at dusk", null, 64, 48, 2, 6.5, 7,
        "euler", loras, 1, 60_000, sources);
  }

  private Future<List<RenderedImage>> generate(JobSpec job) {
    return engine.generate(job, (step, total, preview) -> { }, new CancelSignal());
  }
}
