package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.JavaProcess;
import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Workers die, freeze and lose their connection for real (SIGKILL, silence, a cut TCP relay); their
 * jobs are re-queued within the heartbeat timeout and finish elsewhere, exactly once.
 */
class WorkerFailureIT {
  private Cluster cluster;
  private EventLog events;
  private Cluster.Router router;
  private ApiClient api;
  private String key;

  @BeforeEach
  void start() {
    cluster = new Cluster("workerfailure");
    router = cluster.router("router-a", Map.of());
    events = new EventLog(cluster.infra.kafka().bootstrap(), cluster.topic);
    api = new ApiClient(router.url());
    key = cluster.createUser("pro");
  }

  @AfterEach
  void stop() {
    events.close();
    cluster.close();
  }

  private String submitLongJob(int steps) {
    ApiClient.Response r = api.post("/v1/generations", key, "{\"model\": \"sd-1.5\", \"prompt\": \"a long job\", "
        + "\"steps\": " + steps + ", \"width\": 64, \"height\": 64}");
    assertThat(r.status()).isEqualTo(202);
    return r.json().getString("id");
  }

  private JsonObject awaitEvent(String jobId, String type, Duration timeout) {
    events.await(all -> all.stream().anyMatch(e -> jobId.equals(e.getString("job_id")) && type.equals(e.getString("type"))),
        timeout, type + " of " + jobId);
    return events.of(jobId).stream().filter(e -> type.equals(e.getString("type"))).findFirst().orElseThrow();
  }

  private JsonObject awaitRetry(String jobId, Duration timeout) {
    events.await(all -> all.stream().anyMatch(e -> jobId.equals(e.getString("job_id"))
        && "job.queued".equals(e.getString("type")) && e.getBoolean("retry", false)), timeout, "re-queue of " + jobId);
    return events.of(jobId).stream().filter(e -> e.getBoolean("retry", false)).findFirst().orElseThrow();
  }

  private List<JsonObject> successes(String jobId) {
    return events.of(jobId).stream().filter(e -> "job.succeeded".equals(e.getString("type"))).toList();
  }

  @Test
  void jobsOfAKilledWorkerAreRequeuedWithinTheHeartbeatTimeoutAndFinishElsewhere() {
    JavaProcess doomed = cluster.worker("doomed", List.of(router), Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
    String job = submitLongJob(80);
    assertThat(awaitEvent(job, "job.started", Duration.ofSeconds(20)).getInteger("attempt")).isEqualTo(1);
    cluster.worker("survivor", List.of(router), Map.of());

    long killedAt = System.nanoTime();
    doomed.kill();
    awaitRetry(job, Duration.ofSeconds(15));
    Duration requeuedAfter = Duration.ofNanos(System.nanoTime() - killedAt);
    assertThat(requeuedAfter).isLessThanOrEqualTo(Duration.ofSeconds(10));

    JsonObject done = awaitEvent(job, "job.succeeded", Duration.ofSeconds(30));
    assertThat(done.getInteger("attempt")).isEqualTo(2);
    assertThat(done.getString("worker_id")).isEqualTo("survivor");
    assertThat(successes(job)).extracting(e -> e.getInteger("attempt")).containsOnly(2);
    System.out.printf("killed worker's job re-queued after %d ms%n", requeuedAfter.toMillis());
  }

  @Test
  void aJobThatWasItsWorkersTurnUsesAnAttemptWhenTheWorkerDies() {
    // one slot and a queue of one: the second job (another model, 3 s to load) waits in the worker's
    // queue and becomes its turn when the first's steps end; the worker dies while loading its model
    JavaProcess doomed = cluster.worker("doomed-queue", List.of(router), Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms",
        "PINGVAS_ENGINE_MODEL_LOAD_TIME", "3s"));
    String first = submitLongJob(20);
    awaitEvent(first, "job.started", Duration.ofSeconds(20));
    ApiClient.Response r = api.post("/v1/generations", key, "{\"model\": \"sdxl\", \"prompt\": \"its turn next\", "
        + "\"steps\": 5, \"width\": 64, \"height\": 64}");
    assertThat(r.status()).isEqualTo(202);
    String second = r.json().getString("id");
    awaitEvent(second, "job.dispatched", Duration.ofSeconds(20));
    awaitEvent(first, "job.succeeded", Duration.ofSeconds(20));
    assertThat(events.of(second)).extracting(e -> e.getString("type")).doesNotContain("job.started");
    doomed.kill();

    // lost with its worker as a running job: re-queued as a retry (an attempt used), not handed back
    // unused as a job still waiting in the worker's queue would be (a plain job.queued, no retry)
    JsonObject retry = awaitRetry(second, Duration.ofSeconds(15));
    assertThat(retry.getJsonObject("error").getString("code")).isEqualTo("worker_lost");
    cluster.worker("survivor-queue", List.of(router), Map.of());
    JsonObject done = awaitEvent(second, "job.succeeded", Duration.ofSeconds(30));
    assertThat(done.getInteger("attempt")).isEqualTo(2);
  }

  @Test
  void aSilentWorkerLosesItsJobAndItsLateResultIsRefused() throws Exception {
    ProtocolProbe silent = ProtocolProbe.connect(router.url(), Cluster.WORKER_TOKEN);
    silent.send(new WorkerMessage.Hello(1, "silent", "probe", 1000, 1000, 1, List.of("sd-1.5"), "probe", List.of()));
    silent.await(RouterMessage.Welcome.class, Duration.ofSeconds(10));
    String job = submitLongJob(5);
    RouterMessage.Assign assign = silent.await(RouterMessage.Assign.class, Duration.ofSeconds(10));
    assertThat(assign.job().jobId()).isEqualTo(job);
    // the probe never heartbeats: after the heartbeat timeout (8 s) the job goes back to the queue
    long assignedAt = System.nanoTime();
    cluster.worker("healthy", List.of(router), Map.of());
    awaitRetry(job, Duration.ofSeconds(15));
    assertThat(Duration.ofNanos(System.nanoTime() - assignedAt)).isLessThanOrEqualTo(Duration.ofSeconds(10));
    JsonObject done = awaitEvent(job, "job.succeeded", Duration.ofSeconds(30));
    assertThat(done.getInteger("attempt")).isEqualTo(2);
    silent.close();

    // the silent worker comes back and reports attempt 1 as if nothing happened
    ApiClient routerApi = new ApiClient(router.url());
    double fencedBefore = routerApi.metric("pingvas_results_fenced_total");
    try (ProtocolProbe late = ProtocolProbe.connect(router.url(), Cluster.WORKER_TOKEN)) {
      late.send(new WorkerMessage.Hello(1, "silent", "probe", 1000, 1000, 1, List.of("sd-1.5"), "probe",
          List.of(new RunningJob(job, 1))));
      RouterMessage.Welcome welcome = late.await(RouterMessage.Welcome.class, Duration.ofSeconds(10));
      assertThat(welcome.adopted()).isEmpty();
      assertThat(welcome.abandon()).containsExactly(new RunningJob(job, 1));
      late.send(new WorkerMessage.Result(job, 1, List.of(new ImageOutput(0, assign.upload().get(0).key(), 64, 64,
          assign.job().seed(), 100, "00")), null, 1));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (routerApi.metric("pingvas_results_fenced_total") <= fencedBefore && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
    }
    assertThat(routerApi.metric("pingvas_results_fenced_total")).isGreaterThan(fencedBefore);
    JsonObject after = api.get("/v1/generations/" + job, key).json();
    assertThat(after.getString("status")).isEqualTo("succeeded");
    assertThat(after.getInteger("attempt")).isEqualTo(2);
    Thread.sleep(500);
    assertThat(successes(job)).extracting(e -> e.getInteger("attempt")).containsOnly(2);
  }

  @Test
  void aWorkerThatReconnectsAtOnceKeepsItsJob() throws Exception {
    try (TcpProxy link = proxyToRouter()) {
      Cluster.Router viaProxy = via(link);
      cluster.worker("flaky-link", List.of(viaProxy), Map.of("PINGVAS_ENGINE_STEP_TIME", "50ms"));
      String job = submitLongJob(60);
      awaitEvent(job, "job.started", Duration.ofSeconds(20));
      link.dropAll();
      JsonObject done = awaitEvent(job, "job.succeeded", Duration.ofSeconds(30));
      assertThat(done.getInteger("attempt")).isEqualTo(1);
      assertThat(events.of(job)).noneMatch(e -> e.getBoolean("retry", false));
    }
  }

  @Test
  void aJobThatFinishesWhileItsWorkerIsCutOffIsReportedWhenItReconnects() throws Exception {
    // the router waits 20 s for a worker to come back; the worker gives running jobs up after 2 s
    // without it, but a finished one (its images uploaded) runs no more: its report waits
    Cluster.Router patient = cluster.router("router-patient", Map.of("PINGVAS_WORKERS_RECONNECT_GRACE", "20s"));
    try (TcpProxy link = proxyTo(patient)) {
      cluster.worker("finishes-alone", List.of(via(link, patient)),
          Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms", "PINGVAS_WORKER_DISCONNECT_ABORT", "2s"));
      String job = submitLongJob(30);
      awaitEvent(job, "job.started", Duration.ofSeconds(20));
      Thread.sleep(2_000);
      link.block(true);
      link.dropAll();
      Thread.sleep(4_000); // its last second of steps and its upload, then past the worker's 2 s
      link.block(false);
      JsonObject done = awaitEvent(job, "job.succeeded", Duration.ofSeconds(30));
      assertThat(done.getInteger("attempt")).as("reported on reconnect, not run again").isEqualTo(1);
      assertThat(events.of(job)).noneMatch(e -> e.getBoolean("retry", false));
    }
  }

  @Test
  void aWorkerCutOffAbandonsItsJobBeforeItRunsElsewhere() throws Exception {
    assertCutWorkerAbandonsBeforeItRunsElsewhere("cut-off", "other", 80, TcpProxy::dropAll,
        Duration.ofSeconds(10), Duration.ofSeconds(30));
  }

  @Test
  void aWorkerOnAHalfOpenLinkAbandonsItsJobBeforeItRunsElsewhere() throws Exception {
    // neither end is told: the router stops hearing heartbeats, the worker stops hearing pongs
    assertCutWorkerAbandonsBeforeItRunsElsewhere("half-open", "after-half-open", 150, TcpProxy::freezeAll,
        Duration.ofSeconds(20), Duration.ofSeconds(40));
  }

  @Test
  void aDrainingWorkerCutOffAbandonsItsJobAndExits() throws Exception {
    // SIGTERM (a rollout, Karpenter consolidating the node): the worker finishes its job... unless
    // it loses the router meanwhile, which re-queues the job: then it must give the job up as at any
    // other time, not run it alongside the retry and hold its shutdown for the whole grace
    try (TcpProxy link = proxyToRouter()) {
      JavaProcess cutOff = cluster.worker("drain-cut", List.of(via(link)), Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
      String job = submitLongJob(150);
      awaitEvent(job, "job.started", Duration.ofSeconds(20));
      JavaProcess other = cluster.worker("after-drain-cut", List.of(router), Map.of());
      cutOff.terminate();
      Thread.sleep(500);
      link.block(true);
      link.dropAll();
      awaitRetry(job, Duration.ofSeconds(15));
      assertThat(cutOff.waitFor(Duration.ofSeconds(20))).as("the draining worker exited (-1: still running)")
          .isNotEqualTo(-1);
      JsonObject done = awaitEvent(job, "job.succeeded", Duration.ofSeconds(40));
      assertThat(done.getInteger("attempt")).isEqualTo(2);
      assertAttemptsOneAndTwoNeverOverlap(job, cutOff, other);
    }
  }

  /**
   * A worker behind a relay runs a long job; another worker joins, the relay is cut as {@code cut}
   * does and refuses new connections: the job must be retried and succeed as attempt 2 on the other
   * worker, and the two attempts must never overlap.
   */
  private void assertCutWorkerAbandonsBeforeItRunsElsewhere(String cutName, String otherName, int steps,
      java.util.function.Consumer<TcpProxy> cut, Duration retryWithin, Duration doneWithin) throws Exception {
    try (TcpProxy link = proxyToRouter()) {
      Cluster.Router viaProxy = via(link);
      JavaProcess cutOff = cluster.worker(cutName, List.of(viaProxy), Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
      String job = submitLongJob(steps);
      awaitEvent(job, "job.started", Duration.ofSeconds(20));
      JavaProcess other = cluster.worker(otherName, List.of(router), Map.of());
      link.block(true);
      cut.accept(link);
      awaitRetry(job, retryWithin);
      JsonObject done = awaitEvent(job, "job.succeeded", doneWithin);
      assertThat(done.getInteger("attempt")).isEqualTo(2);
      link.block(false);

      assertAttemptsOneAndTwoNeverOverlap(job, cutOff, other);
    }
  }

  private TcpProxy proxyToRouter() throws java.io.IOException {
    return proxyTo(router);
  }

  private static TcpProxy proxyTo(Cluster.Router target) throws java.io.IOException {
    return new TcpProxy(Integer.parseInt(target.url().substring(target.url().lastIndexOf(':') + 1)));
  }

  private Cluster.Router via(TcpProxy link) {
    return via(link, router);
  }

  /** {@code target} as its workers reach it through {@code link}. */
  private static Cluster.Router via(TcpProxy link, Cluster.Router target) {
    return new Cluster.Router(target.process(), "http://127.0.0.1:" + link.port());
  }

  /** From the workers' own logs: the job ran as attempts 1 and 2, never both at once. */
  private static void assertAttemptsOneAndTwoNeverOverlap(String job, JavaProcess first, JavaProcess second)
      throws Exception {
    List<Cluster.Execution> runs = new ArrayList<>(Cluster.executions(first));
    runs.addAll(Cluster.executions(second));
    List<Cluster.Execution> ofJob = runs.stream().filter(r -> r.jobId().equals(job)).toList();
    assertThat(ofJob).extracting(Cluster.Execution::attempt).containsExactlyInAnyOrder(1, 2);
    assertThat(ofJob.get(0).overlaps(ofJob.get(1))).as("attempts ran at the same time: %s", ofJob).isFalse();
  }
}
