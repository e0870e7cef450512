package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.SharedInfra;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker whose link to the router drops while Postgres is unreachable reconnects with its job
 * still running; the router cannot look up the worker's attempts then. It retries the lookup (the
 * worker waits for its welcome, rendering on) instead of reading the failure as "runs nothing",
 * which told the worker to abandon healthy work and cost the job an attempt. The router reaches
 * Postgres, and the worker the router, through relays the test can cut.
 */
class WorkerReconnectOutageIT {
  private static TcpProxy pgLink;
  private static TcpProxy workerLink;
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    LocalInfra infra = SharedInfra.get();
    int pgPort = infra.postgres().port();
    pgLink = new TcpProxy(pgPort);
    String url = SharedInfra.newDatabase("reconnect").replace(":" + pgPort + "/", ":" + pgLink.port() + "/");
    harness = new RouterHarness("reconnect", infra, url).with("PINGVAS_PG_STATEMENT_TIMEOUT", "2s")
        .with("PINGVAS_PG_RESPONSE_TIMEOUT", "3s");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    workerLink = new TcpProxy(harness.port);
    harness.startWorker("far-worker", Map.of(
        "PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + workerLink.port() + "/v1/workers/connect",
        "PINGVAS_ENGINE_STEP_TIME", "100ms",
        "PINGVAS_WORKER_RECONNECT_MIN", "100ms",
        "PINGVAS_WORKER_RECONNECT_MAX", "300ms")).toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() throws Exception {
    harness.close();
    workerLink.close();
    pgLink.close();
  }

  @Test
  void aWorkerReconnectingWhilePostgresIsAwayKeepsItsRunningJob() throws Exception {
    String key = harness.createUser("studio");
    String id = api.submit(key, "sd-1.5", "a lighthouse in fog", 80); // ~8 s of steps
    api.awaitStatus(key, id, "running", Duration.ofSeconds(20));

    // Postgres goes away (open connections cut, new ones refused), then the worker's link drops:
    // it redials at once and says it runs the job, which the router cannot look up for now
    pgLink.block(true);
    pgLink.dropAll();
    workerLink.dropAll();
    Thread.sleep(3_000);
    pgLink.block(false);

    JsonObject done = api.awaitStatus(key, id, "succeeded", Duration.ofSeconds(40));
    assertThat(done.getInteger("attempt")).as("the running attempt was adopted, not lost and retried: "
        + done.encode()).isEqualTo(1);
    // one reconnection, held open while the lookups were retried: the progress the worker sent
    // meanwhile did not get it closed (it was, and redialed ~20 times, each asked to reconnect)
    assertThat(api.metric("pingvas_worker_hellos_total", "outcome=\"welcomed\"")).isEqualTo(2.0);
    assertThat(api.metric("pingvas_worker_hellos_total", "outcome=\"asked_to_reconnect\"")).isZero();
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + id
        + "' AND attempt = 1 AND status = 'succeeded'")).isOne();
  }
}
