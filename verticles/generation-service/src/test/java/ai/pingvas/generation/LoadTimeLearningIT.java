package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.testing.Http;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router learns a model's load time only from workers that report having loaded it: not from a
 * worker that held the model although the router expected a load, and also from one that had to
 * load a model the router believed it held.
 */
class LoadTimeLearningIT {
  private static RouterHarness harness;
  private static ApiClient api;
  private static String admin;
  private static String user;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("loadtimes");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
    admin = harness.createAdmin();
    user = harness.createUser("pro");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void learnsLoadTimesFromReportedLoadsOnly() throws Exception {
    try (ProtocolProbe worker = ProtocolProbe.connect(harness.baseUrl(), RouterHarness.WORKER_TOKEN)) {
      worker.send(new WorkerMessage.Hello(1, "probe-gpu", "probe", 24_000, 24_000, 1, List.of(), "probe", List.of()));
      worker.await(RouterMessage.Welcome.class, Duration.ofSeconds(10));

      // the router believes the worker lacks sdxl and expects a load; the worker held it after all
      String first = submit();
      RouterMessage.Assign assign = worker.await(RouterMessage.Assign.class, Duration.ofSeconds(10));
      assertThat(assign.job().jobId()).isEqualTo(first);
      worker.send(new WorkerMessage.Result(first, assign.job().attempt(), upload(assign), null, 40));
      api.awaitStatus(user, first, "succeeded", Duration.ofSeconds(20));
      assertThat(learned().containsKey("sdxl")).as("learned from a worker that loaded nothing").isFalse();

      // now the router believes the worker holds sdxl; it had evicted it and loads it for 700 ms
      worker.send(new WorkerMessage.Heartbeat(20_000, List.of("sdxl"), List.of(), false, 0.0));
      String second = submit();
      assign = worker.await(RouterMessage.Assign.class, Duration.ofSeconds(10));
      assertThat(assign.job().jobId()).isEqualTo(second);
      worker.send(new WorkerMessage.Result(second, assign.job().attempt(), upload(assign), 700L, 760));
      api.awaitStatus(user, second, "succeeded", Duration.ofSeconds(20));
      assertThat(learned().getLong("sdxl")).isEqualTo(700L);
    }
  }

  private static JsonObject learned() {
    return api.get("/v1/admin/overview", admin).json().getJsonArray("replicas").getJsonObject(0)
        .getJsonObject("model_load_ms");
  }

  private static String submit() {
    ApiClient.Response r = api.post("/v1/generations", user,
        "{\"model\": \"sdxl\", \"prompt\": \"a probe\", \"steps\": 2, \"width\": 64, \"height\": 64}");
    assertThat(r.status()).isEqualTo(202);
    return r.json().getString("id");
  }

  /** Puts a real 64×64 PNG where the router said, as a worker does, and describes it. */
  private static List<ImageOutput> upload(RouterMessage.Assign assign) throws Exception {
    UploadSlot slot = assign.upload().get(0);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", png);
    byte[] bytes = png.toByteArray();
    HttpResponse<String> put = Http.client().send(HttpRequest.newBuilder(URI.create(slot.putUrl()))
        .header("Content-Type", "image/png").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(200);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    return List.of(new ImageOutput(slot.index(), slot.key(), 64, 64, assign.job().seed(), bytes.length, sha));
  }
}
