package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
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
      worker.send(new WorkerMessage.Result(first, assign.job().attempt(), ProtocolProbe.upload(assign), null, 40));
      api.awaitStatus(user, first, "succeeded", Duration.ofSeconds(20));
      assertThat(learned().containsKey("sdxl")).as("learned from a worker that loaded nothing").isFalse();

      // now the router believes the worker holds sdxl; it had evicted it and loads it for 700 ms
      worker.send(new WorkerMessage.Heartbeat(20_000, List.of("sdxl"), List.of(), false, 0.0));
      String second = submit();
      assign = worker.await(RouterMessage.Assign.class, Duration.ofSeconds(10));
      assertThat(assign.job().jobId()).isEqualTo(second);
      worker.send(new WorkerMessage.Result(second, assign.job().attempt(), ProtocolProbe.upload(assign), 700L, 760));
      api.awaitStatus(user, second, "succeeded", Duration.ofSeconds(20));
      assertThat(learned().getLong("sdxl")).isEqualTo(700L);
    }
  }

  private static JsonObject learned() {
    return api.get("/v1/admin/overview", admin).json().getJsonArray("replicas").getJsonObject(0)
        .getJsonObject("model_load_ms");
  }

  private static String submit() {
    return api.submit(user, "sdxl", "a probe", 2);
  }
}
