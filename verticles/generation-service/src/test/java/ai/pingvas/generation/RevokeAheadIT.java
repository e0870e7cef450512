package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.WorkerMessage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router's side of a worker queue, against a test's own worker: a job sent ahead whose
 * predecessor overruns is revoked and, handed back unstarted, returns to the queue without using an
 * attempt; a revoke that crosses the job's start is ignored by the worker and the job runs once; a
 * queued job of a worker that vanishes is re-queued and runs elsewhere.
 */
class RevokeAheadIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static RouterHarness harness;
  private static ApiClient api;
  private static String user;

  @BeforeAll
  static void start() {
    // jobs of 20 steps are expected to take 1 s; the next is claimed 50 ms before that, and
    // revoked when it has not started 1 s (the minimum hold) after its claim
    harness = new RouterHarness("revokeahead")
        .with("PINGVAS_SCHEDULER_STEP_ESTIMATE", "50ms")
        .with("PINGVAS_SCHEDULER_CLAIM_AHEAD", "50ms")
        .with("PINGVAS_WORKERS_RECONNECT_GRACE", "500ms");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
    user = harness.createUser("pro");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** The closed probe's worker is gone (after the reconnect grace) before the next test places jobs. */
  @AfterEach
  void workerGone() throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (api.metric("pingvas_workers_connected") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(api.metric("pingvas_workers_connected")).isZero();
  }

  @Test
  void aQueuedJobBehindAnOverrunningOneIsRevokedAndReturnsUnused() {
    double returnedBefore = api.metric("pingvas_claimed_ahead_returned_total");
    try (ProtocolProbe worker = connect("probe-overrun")) {
      String first = submit();
      RouterMessage.Assign running = worker.await(RouterMessage.Assign.class, WAIT);
      assertThat(running.job().jobId()).isEqualTo(first);
      String second = submit();
      RouterMessage.Assign ahead = worker.await(RouterMessage.Assign.class, WAIT);
      assertThat(ahead.job().jobId()).as("sent while the first runs").isEqualTo(second);

      // the first overruns: the router takes the second back
      RouterMessage.Revoke revoke = worker.await(RouterMessage.Revoke.class, WAIT);
      assertThat(revoke.jobId()).isEqualTo(second);
      assertThat(revoke.attempt()).isEqualTo(ahead.job().attempt());
      worker.send(new WorkerMessage.Failure(second, revoke.attempt(), "revoked", "not started", true));
      api.awaitStatus(user, second, "queued", WAIT);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "' AND attempt = 1"
          + " AND max_attempts = 4 AND started_at IS NULL")).as("handed back without using an attempt").isEqualTo(1);
      assertThat(api.metric("pingvas_claimed_ahead_returned_total")).isEqualTo(returnedBefore + 1);

      // when the first ends, the second comes back as its next attempt and runs
      worker.send(new WorkerMessage.Result(first, running.job().attempt(), ProtocolProbe.upload(running), null, 5_000));
      RouterMessage.Assign again = worker.await(RouterMessage.Assign.class, WAIT);
      assertThat(again.job().jobId()).isEqualTo(second);
      assertThat(again.job().attempt()).isEqualTo(2);
      worker.send(new WorkerMessage.Result(second, 2, ProtocolProbe.upload(again), null, 200));
      api.awaitStatus(user, first, "succeeded", WAIT);
      api.awaitStatus(user, second, "succeeded", WAIT);
    }
  }

  @Test
  void aRevokeThatCrossesTheStartIsIgnoredAndTheJobRunsOnce() {
    double fencedBefore = api.metric("pingvas_results_fenced_total");
    try (ProtocolProbe worker = connect("probe-crossing")) {
      String first = submit();
      RouterMessage.Assign running = worker.await(RouterMessage.Assign.class, WAIT);
      String second = submit();
      RouterMessage.Assign ahead = worker.await(RouterMessage.Assign.class, WAIT);
      assertThat(ahead.job().jobId()).isEqualTo(second);
      worker.await(RouterMessage.Revoke.class, WAIT);
      // the worker had already started it when the revoke arrived: it says nothing and runs it
      worker.send(new WorkerMessage.Progress(second, ahead.job().attempt(), 0, 20, null));
      worker.send(new WorkerMessage.Result(first, running.job().attempt(), ProtocolProbe.upload(running), null, 1_500));
      worker.send(new WorkerMessage.Result(second, ahead.job().attempt(), ProtocolProbe.upload(ahead), null, 200));
      api.awaitStatus(user, first, "succeeded", WAIT);
      api.awaitStatus(user, second, "succeeded", WAIT);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "' AND attempt = 1"
          + " AND max_attempts = 3 AND worker_id = 'probe-crossing'")).as("ran once, never re-queued").isEqualTo(1);
      assertThat(api.metric("pingvas_results_fenced_total")).isEqualTo(fencedBefore);
      worker.expectSilence(Duration.ofMillis(500));
    }
  }

  @Test
  void theQueuedJobOfAVanishedWorkerRunsElsewhere() {
    String first;
    String second;
    try (ProtocolProbe gone = connect("probe-gone")) {
      first = submit();
      gone.await(RouterMessage.Assign.class, WAIT);
      second = submit();
      RouterMessage.Assign ahead = gone.await(RouterMessage.Assign.class, WAIT);
      assertThat(ahead.job().jobId()).isEqualTo(second);
    } // the connection drops with both jobs on the worker, one of them queued
    try (ProtocolProbe other = connect("probe-other")) {
      for (int i = 0; i < 2; i++) {
        RouterMessage.Assign assign = other.await(RouterMessage.Assign.class, WAIT);
        assertThat(assign.job().jobId()).isIn(first, second);
        other.send(new WorkerMessage.Result(assign.job().jobId(), assign.job().attempt(), ProtocolProbe.upload(assign),
            null, 200));
      }
      api.awaitStatus(user, first, "succeeded", WAIT);
      api.awaitStatus(user, second, "succeeded", WAIT);
      // the running one was lost with the worker (an attempt used); the queued one never started
      // and came back unused (max_attempts grew with it)
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + first + "'"
          + " AND worker_id = 'probe-other' AND attempt = 2 AND max_attempts = 3")).isEqualTo(1);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "'"
          + " AND worker_id = 'probe-other' AND attempt = 2 AND max_attempts = 4")).isEqualTo(1);
    }
  }

  @Test
  void aWorkerThatReconnectsWithoutItsQueuedJobGetsItBackUnused() {
    String first;
    String second;
    RouterMessage.Assign running;
    try (ProtocolProbe before = connect("probe-back")) {
      first = submit();
      running = before.await(RouterMessage.Assign.class, WAIT);
      second = submit();
      RouterMessage.Assign ahead = before.await(RouterMessage.Assign.class, WAIT);
      assertThat(ahead.job().jobId()).isEqualTo(second);
    } // the connection drops; the worker keeps running the first and drops the queued second
    try (ProtocolProbe after = ProtocolProbe.connect(harness.baseUrl(), RouterHarness.WORKER_TOKEN)) {
      after.send(new WorkerMessage.Hello(1, "probe-back", "probe", 24_000, 24_000, 1, List.of("sdxl"), "probe",
          List.of(new ai.pingvas.protocol.RunningJob(first, running.job().attempt())), 1));
      RouterMessage.Welcome welcome = after.await(RouterMessage.Welcome.class, WAIT);
      assertThat(welcome.adopted()).extracting(ai.pingvas.protocol.RunningJob::jobId).containsExactly(first);
      api.awaitStatus(user, second, "queued", WAIT);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "' AND attempt = 1"
          + " AND max_attempts = 4 AND started_at IS NULL")).as("back in the queue unused").isEqualTo(1);
      after.send(new WorkerMessage.Result(first, running.job().attempt(), ProtocolProbe.upload(running), null, 1_000));
      RouterMessage.Assign again = after.await(RouterMessage.Assign.class, WAIT);
      assertThat(again.job().jobId()).isEqualTo(second);
      after.send(new WorkerMessage.Result(second, again.job().attempt(), ProtocolProbe.upload(again), null, 200));
      api.awaitStatus(user, first, "succeeded", WAIT);
      api.awaitStatus(user, second, "succeeded", WAIT);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + first + "' AND attempt = 1"))
          .as("the first ran on, adopted").isEqualTo(1);
    }
  }

  /** A worker that holds sdxl (no load expected), one slot and a queue of one. */
  private static ProtocolProbe connect(String workerId) {
    ProtocolProbe probe = ProtocolProbe.connect(harness.baseUrl(), RouterHarness.WORKER_TOKEN);
    probe.send(new WorkerMessage.Hello(1, workerId, "probe", 24_000, 24_000, 1, List.of("sdxl"), "probe", List.of(), 1));
    probe.await(RouterMessage.Welcome.class, WAIT);
    return probe;
  }

  private static String submit() {
    return api.submit(user, "sdxl", "a probe", 20);
  }
}
