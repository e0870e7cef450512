package ai.pingvas.worker.engine.invokeai;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The InvokeAI engine against a fake InvokeAI that speaks InvokeAI's HTTP and socket.io shapes. */
class InvokeAiEngineIT {
  private final Vertx vertx = Vertx.vertx();
  private FakeInvokeAi fake;
  private InvokeAiEngine engine;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  record Step(int step, int total, String preview) {
  }

  @AfterEach
  void stop() {
    closeAll(engine, vertx, fake);
  }

  /** Closes what a test started (any may be null). */
  static void closeAll(InvokeAiEngine engine, Vertx vertx, FakeInvokeAi fake) {
    if (engine != null) {
      engine.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().join();
    if (fake != null) {
      fake.close();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void start(boolean events, Map<String, String> sources, long budgetMb) {
    start(events, sources, budgetMb, Duration.ofSeconds(5));
  }

  private void start(boolean events, Map<String, String> sources, long budgetMb, Duration requestTimeout) {
    fake = new FakeInvokeAi(freePort()).start();
    InvokeAiSettings settings = new InvokeAiSettings("http://127.0.0.1:" + fake.port, "default", events,
        Duration.ofMillis(100), requestTimeout, Duration.ofSeconds(3), Duration.ofSeconds(10), sources);
    // static keys: these tests install from configured sources only (S3ModelInstallIT covers S3)
    engine = new InvokeAiEngine(vertx, settings, new ModelDownloads(vertx, "us-east-1", null, true, "unused",
        "unused", Duration.ofHours(1)), new ModelLru(budgetMb, 4), new ModelSizes(List.of(), 3000), registry);
    join(engine.start());
  }

  private static JobSpec job(String model, int count, int steps, List<LoraRef> loras) {
    return new JobSpec(UUID.randomUUID().toString(), 1, model, "a lighthouse at dusk", "blurry", 64, 48, steps, 6.5,
        1234, "dpmpp_2m", loras, count, 60_000, Map.of());
  }

  private Future<List<RenderedImage>> generate(JobSpec job, List<Step> steps, CancelSignal cancel) {
    return engine.generate(job, (step, total, preview) -> steps.add(new Step(step, total, preview)), cancel);
  }

  static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  /** The engine's failure of a job that must fail. */
  static EngineException failure(Future<?> future) {
    try {
      join(future);
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(EngineException.class);
      return (EngineException) e.getCause();
    }
    throw new AssertionError("the job succeeded");
  }

  @Test
  void rendersEveryImageWithProgressAndPreviews() {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main").withModel("detail", "sd-1", "lora");
    List<Step> steps = new CopyOnWriteArrayList<>();

    List<RenderedImage> images = join(generate(job("sd-1.5", 2, 6, List.of(new LoraRef("detail", 0.6))), steps,
        new CancelSignal()));

    assertThat(images).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(images.get(i).index()).isEqualTo(i);
      assertThat(images.get(i).seed()).isEqualTo(1234 + i);
      assertThat(images.get(i).width()).isEqualTo(64);
      assertThat(images.get(i).height()).isEqualTo(48);
      assertThat(images.get(i).png()).startsWith(0x89, 'P', 'N', 'G');
    }
    assertThat(steps.get(0).step()).isZero();
    assertThat(steps.stream().map(Step::step).toList()).isSorted().doesNotHaveDuplicates();
    assertThat(steps.stream().map(Step::preview).filter(p -> p != null)).isNotEmpty()
        .allMatch(p -> p.startsWith("data:image/jpeg;base64,"));

    JsonObject batch = fake.batches.get(0).getJsonObject("batch");
    assertThat(fake.batches.get(0).getBoolean("prepend")).isFalse();
    assertThat(batch.getJsonArray("data").getJsonArray(0).getJsonObject(0).getJsonArray("items").stream()
        .map(n -> ((Number) n).longValue()).toList()).containsExactly(1234L, 1235L);
    JsonObject nodes = batch.getJsonObject("graph").getJsonObject("nodes");
    assertThat(nodes.getJsonObject("model").getJsonObject("model").getString("key")).isEqualTo(fake.keyOf("sd-1.5"));
    assertThat(nodes.getJsonObject("lora_0").getString("type")).isEqualTo("lora_loader");
    assertThat(nodes.getJsonObject("denoise").getInteger("steps")).isEqualTo(6);
    assertThat(nodes.getJsonObject("denoise").getString("scheduler")).isEqualTo("dpmpp_2m");
    assertThat(nodes.getJsonObject("neg").getString("prompt")).isEqualTo("blurry");
    assertThat(engine.modelsLoaded()).containsExactlyInAnyOrder("sd-1.5", "detail");
    assertThat(fake.requests).anyMatch(r -> r.startsWith("GET /api/v1/images/i/") && r.endsWith("/full"));
  }

  @Test
  void followsByPollingWhenSocketIoIsDown() {
    start(true, Map.of(), 20_000);
    fake.disableSocket();
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.stepDelayMs = 30;
    List<Step> steps = new CopyOnWriteArrayList<>();
    assertThat(join(generate(job("sd-1.5", 1, 4, List.of()), steps, new CancelSignal()))).hasSize(1);
    assertThat(steps).isNotEmpty();
    assertThat(fake.requests).anyMatch(r -> r.startsWith("GET /api/v1/queue/default/i/"));
  }

  @Test
  void installsAMissingModelFromItsConfiguredSource() {
    start(true, Map.of("sdxl", "/models/sdxl/sd_xl_base_1.0.safetensors"), 20_000);
    List<RenderedImage> images = join(generate(job("sdxl", 1, 2, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(images).hasSize(1);
    assertThat(fake.installs).hasSize(1);
    assertThat(fake.installs.get(0).getString("source")).isEqualTo("/models/sdxl/sd_xl_base_1.0.safetensors");
    assertThat(fake.installs.get(0).getJsonObject("body").getString("name")).isEqualTo("sdxl");
    JsonObject nodes = fake.batches.get(0).getJsonObject("batch").getJsonObject("graph").getJsonObject("nodes");
    assertThat(nodes.getJsonObject("model").getString("type")).isEqualTo("sdxl_model_loader");
    assertThat(nodes.getJsonObject("pos").getString("type")).isEqualTo("sdxl_compel_prompt");
  }

  @Test
  void cancelingDuringAModelInstallEndsTheAttemptAtOnce() throws Exception {
    // the install runs on (the next job of the model reuses it); the attempt and its slot do not wait
    start(true, Map.of("sdxl", "/models/sdxl/sd_xl_base_1.0.safetensors"), 20_000);
    fake.installRunningPolls = Integer.MAX_VALUE;
    CancelSignal cancel = new CancelSignal();
    Future<List<RenderedImage>> installing = generate(job("sdxl", 1, 2, List.of()), new CopyOnWriteArrayList<>(),
        cancel);
    awaitUntil(() -> !fake.installs.isEmpty());
    cancel.cancel();
    // well inside the install timeout (10 s here), after which the attempt used to end
    try {
      installing.toCompletionStage().toCompletableFuture().orTimeout(3, TimeUnit.SECONDS).join();
      throw new AssertionError("the job succeeded");
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(EngineException.class);
      assertThat(((EngineException) e.getCause()).code()).isEqualTo("canceled");
    }
    assertThat(fake.batches).isEmpty();
  }

  @Test
  void aTruncatedImageFailsTheRunInsteadOfLeavingItHanging() {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.truncateImages = true;
    EngineException e = failure(generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(e.code()).isEqualTo("engine_error");
    assertThat(e.getMessage()).contains("10 bytes");
  }

  @Test
  void aModelInvokeAiLacksWithoutASourceFailsRetryable() {
    start(true, Map.of("broken", "bad:/nowhere"), 20_000);
    EngineException missing = failure(generate(job("nope", 1, 2, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(missing.code()).isEqualTo("model_unavailable");
    assertThat(missing.retryable()).isTrue();
    EngineException install = failure(generate(job("broken", 1, 2, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(install.code()).isEqualTo("model_install_failed");
    assertThat(install.getMessage()).contains("Cannot determine model type");
  }

  @Test
  void aModelDeletedFromInvokeAiFailsAsUnavailableAndIsLookedUpAgain() {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    join(generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal()));
    fake.deleteModel("sd-1.5");
    EngineException e = failure(generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(e.code()).isEqualTo("model_unavailable");
    assertThat(e.getMessage()).contains("Unknown model");
    fake.withModel("sd-1.5", "sd-1", "main");
    assertThat(join(generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal())))
        .hasSize(1);
  }

  @Test
  void aFullQueueFailsAsEngineBusy() {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.processorPaused = true;
    fake.maxQueueSize = 1;
    Future<List<RenderedImage>> first = generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal());
    EngineException busy = failure(generate(job("sd-1.5", 2, 1, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(busy.code()).isEqualTo("engine_busy");
    assertThat(busy.retryable()).isTrue();
    assertThat(first.isComplete()).isFalse();
  }

  @Test
  void aGenerationErrorFailsWithInvokeAisError() {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.failNext("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB");
    EngineException e = failure(generate(job("sd-1.5", 1, 3, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(e.code()).isEqualTo("out_of_memory");
    assertThat(e.getMessage()).contains("CUDA out of memory");
    fake.failNext("RuntimeError", "expected scalar type Half");
    assertThat(failure(generate(job("sd-1.5", 1, 3, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal()))
        .code()).isEqualTo("generation_failed");
  }

  /**
   * Runs a 50-step job at {@code stepMs} a step (it would complete well after the test if no cancel
   * got through), cancels it after its second step, and expects the attempt to end canceled; returns
   * the item's final status on InvokeAI. Its first {@code failedCancels} cancels fail with a 500.
   */
  private String cancelMidRun(long stepMs, int failedCancels) throws Exception {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.stepDelayMs = stepMs;
    fake.failCancels = failedCancels;
    List<Step> steps = new CopyOnWriteArrayList<>();
    CancelSignal cancel = new CancelSignal();
    Future<List<RenderedImage>> running = generate(job("sd-1.5", 1, 50, List.of()), steps, cancel);
    awaitUntil(() -> steps.size() >= 2);
    cancel.cancel();
    assertThat(failure(running).code()).isEqualTo("canceled");
    awaitUntil(() -> !"in_progress".equals(fake.item(1).getString("status")));
    return fake.item(1).getString("status");
  }

  @Test
  void cancelingStopsTheQueueItemOnInvokeAi() throws Exception {
    assertThat(cancelMidRun(200, 0)).isEqualTo("canceled");
    assertThat(fake.requests).contains("PUT /api/v1/queue/default/i/1/cancel");
  }

  @Test
  void aCancelThatInvokeAiFailsIsSentAgainSoTheItemDoesNotRenderOn() throws Exception {
    assertThat(cancelMidRun(100, 2)).isEqualTo("canceled");
    assertThat(fake.requests.stream().filter(r -> r.equals("PUT /api/v1/queue/default/i/1/cancel")).count())
        .as("two failed cancels, then the one that worked").isEqualTo(3);
  }

  @Test
  void anEnqueueWhoseAnswerTimesOutIsCanceledByItsBatchSoItsSessionsDoNotRenderOn() throws Exception {
    start(true, Map.of(), 20_000, Duration.ofMillis(500));
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.stepDelayMs = 100;
    fake.enqueueDelayMs = 2_000; // InvokeAI takes the batch but answers after the worker gave up
    EngineException e = failure(generate(job("sd-1.5", 2, 30, List.of()), new CopyOnWriteArrayList<>(),
        new CancelSignal()));
    assertThat(e.retryable()).isTrue();
    String sent = fake.batches.get(0).getJsonObject("batch").getString("batch_id");
    assertThat(sent).as("the worker names its batches").isNotBlank();
    // both sessions end canceled; 30 steps of 100 ms each would have completed them ~3 and ~6 s in
    awaitUntil(() -> fake.item(1) != null && fake.item(2) != null
        && !List.of("pending", "in_progress").contains(fake.item(1).getString("status"))
        && !List.of("pending", "in_progress").contains(fake.item(2).getString("status")));
    assertThat(List.of(fake.item(1).getString("status"), fake.item(2).getString("status")))
        .containsOnly("canceled");
    assertThat(fake.requests).contains("PUT /api/v1/queue/default/cancel_by_batch_ids");
  }

  @Test
  void anInvokeAiRestartMidJobFailsRetryableAndTheNextJobRuns() throws Exception {
    start(true, Map.of(), 20_000);
    fake.withModel("sd-1.5", "sd-1", "main");
    fake.stepDelayMs = 200;
    List<Step> steps = new CopyOnWriteArrayList<>();
    Future<List<RenderedImage>> running = generate(job("sd-1.5", 1, 50, List.of()), steps, new CancelSignal());
    awaitUntil(() -> steps.size() >= 2);
    fake.restart(300);
    EngineException e = failure(running);
    assertThat(e.code()).isEqualTo("engine_restarted");
    assertThat(e.retryable()).isTrue();

    fake.stepDelayMs = 5;
    assertThat(join(generate(job("sd-1.5", 1, 2, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal())))
        .hasSize(1);
  }

  @Test
  void aModelThatDoesNotFitEmptiesInvokeAisCacheFirst() {
    start(true, Map.of(), 4_000);
    fake.withModel("sd-1.5", "sd-1", "main").withModel("other", "sd-1", "main");
    join(generate(job("sd-1.5", 1, 1, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal()));
    assertThat(engine.modelsLoaded()).containsExactly("sd-1.5");
    assertThat(fake.requests).noneMatch(r -> r.contains("empty_model_cache"));

    join(generate(job("other", 1, 1, List.of()), new CopyOnWriteArrayList<>(), new CancelSignal()));
    assertThat(fake.requests).anyMatch(r -> r.equals("POST /api/v2/models/empty_model_cache"));
    assertThat(engine.modelsLoaded()).containsExactly("other");
  }

  private static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out");
      }
      Thread.sleep(20);
    }
  }
}
