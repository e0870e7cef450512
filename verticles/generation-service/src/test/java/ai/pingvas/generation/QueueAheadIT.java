package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.Ports;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A worker with a queue (our worker's default, {@code worker.queue=1}) gets a busy slot's next job
 * as soon as it is claimed, and starts it the moment the running job's engine work ends, without
 * waiting for the router's answer to its result. It never runs the two at once; a cancel removes the
 * queued job unstarted; a drain hands it back unused.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueueAheadIT {
  private static final String WORKER = "queue-worker";
  private static RouterHarness harness;
  private static ApiClient api;
  private static ApiClient workerMetrics;

  @BeforeAll
  static void start() {
    // one worker, one slot and a queue of one, 100 ms per step; the router claims 2 s ahead, so a
    // next job waits about 2 s in the worker's queue
    int metricsPort = Ports.free();
    harness = new RouterHarness("queueahead")
        .with("PINGVAS_SCHEDULER_STEP_ESTIMATE", "100ms")
        .with("PINGVAS_SCHEDULER_CLAIM_AHEAD", "2s")
        .startedWithWorker(WORKER, Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms", "PINGVAS_HTTP_PORT",
            Integer.toString(metricsPort)));
    api = new ApiClient(harness.baseUrl());
    workerMetrics = new ApiClient("http://127.0.0.1:" + metricsPort);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  @Order(1)
  void theNextJobWaitsInTheWorkersQueueAndStartsWhenTheRunningJobsStepsEnd() throws Exception {
    String key = harness.createUser("pro");
    double sentBefore = api.metric("pingvas_claimed_ahead_sent_total");
    String first = submit(key, "first", 40);
    awaitStatus(key, first, "running");
    String second = submit(key, "second", 5);

    boolean sawQueued = false;
    boolean sawOverlap = false;
    long deadline = System.nanoTime() + RouterHarness.await().toNanos();
    while (System.nanoTime() < deadline) {
      // the worker itself holds the second job while it runs the first
      sawQueued |= workerMetrics.metric("pingvas_worker_queued_jobs") == 1
          && workerMetrics.metric("pingvas_worker_running_jobs") == 1;
      // its one slot never renders two jobs (the second starts when the first's steps end)
      sawOverlap |= workerMetrics.metric("pingvas_worker_engine_jobs") > 1;
      if ("succeeded".equals(api.get("/v1/generations/" + second, key).json().getString("status"))) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(sawQueued).as("the second job waited in the worker's queue while the first ran").isTrue();
    assertThat(sawOverlap).as("the engine rendered both jobs at once").isFalse();
    assertThat(harness.count("SELECT count(*) FROM generation.jobs a, generation.jobs b WHERE a.id = '" + first
        + "' AND b.id = '" + second + "' AND b.started_at > a.started_at + interval '3 seconds'"))
        .as("the second started after the first's four seconds of steps").isEqualTo(1);
    awaitStatus(key, first, "succeeded");
    awaitStatus(key, second, "succeeded");
    // sent once, ran on its first attempt, nothing handed back
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "' AND attempt = 1"
        + " AND max_attempts = 3 AND worker_id = '" + WORKER + "'")).isEqualTo(1);
    assertThat(api.metric("pingvas_claimed_ahead_sent_total")).isGreaterThanOrEqualTo(sentBefore + 1);
    assertThat(workerMetrics.metric("pingvas_worker_queued_jobs")).isZero();
  }

  @Test
  @Order(2)
  void aCanceledQueuedJobNeverStartsAndTheWorkerGoesOn() throws Exception {
    String key = harness.createUser("pro");
    Pair jobs = queuedBehindRunning(key, "long");

    ApiClient.Response canceled = api.post("/v1/generations/" + jobs.queued() + "/cancel", key, "");
    assertThat(canceled.status()).isEqualTo(200);
    assertThat(canceled.json().getString("status")).isEqualTo("canceled");
    awaitStatus(key, jobs.running(), "succeeded");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + jobs.queued() + "'"
        + " AND status = 'canceled' AND started_at IS NULL AND progress_step = 0")).isEqualTo(1);
    assertThat(workerMetrics.metric("pingvas_worker_queued_jobs")).isZero();
    // the slot is not lost: the next job runs
    String next = submit(key, "after", 3);
    awaitStatus(key, next, "succeeded");
  }

  @Test
  @Order(3)
  void aDrainingWorkerHandsItsQueuedJobBackWithoutUsingAnAttempt() throws Exception {
    String key = harness.createUser("pro");
    String admin = harness.createAdmin();
    double returnedBefore = api.metric("pingvas_claimed_ahead_returned_total");
    Pair jobs = queuedBehindRunning(key, "before drain");

    assertThat(api.post("/v1/admin/workers/" + WORKER + "/drain", admin, "").status()).isEqualTo(202);
    awaitStatus(key, jobs.queued(), "queued");
    awaitStatus(key, jobs.running(), "succeeded");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + jobs.queued() + "'"
        + " AND status = 'queued' AND started_at IS NULL")).isEqualTo(1);

    harness.startWorker("queue-worker-2", Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms")).toCompletionStage()
        .toCompletableFuture().join();
    awaitStatus(key, jobs.queued(), "succeeded");
    // handed back unused (max_attempts grew with it): it ran as attempt 2 on the other worker
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + jobs.queued() + "' AND attempt = 2"
        + " AND max_attempts = 4 AND worker_id = 'queue-worker-2'")).isEqualTo(1);
    assertThat(api.metric("pingvas_claimed_ahead_returned_total")).isGreaterThanOrEqualTo(returnedBefore + 1);
  }

  private static String submit(String key, String prompt, int steps) {
    return api.submit(key, "sd-1.5", prompt, steps);
  }

  /** A 4 s job running on the worker, and a second job claimed ahead and waiting in the worker's queue. */
  private record Pair(String running, String queued) {
  }

  private static Pair queuedBehindRunning(String key, String prompt) throws InterruptedException {
    String running = submit(key, prompt, 40);
    awaitStatus(key, running, "running");
    String queued = submit(key, prompt + " (next)", 5);
    long deadline = System.nanoTime() + RouterHarness.await().toNanos();
    while (System.nanoTime() < deadline && workerMetrics.metric("pingvas_worker_queued_jobs") < 1) {
      Thread.sleep(10);
    }
    assertThat(workerMetrics.metric("pingvas_worker_queued_jobs")).as("a job queued at the worker").isEqualTo(1);
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + running + "' AND status = 'running'"))
        .as("and the first still runs").isEqualTo(1);
    return new Pair(running, queued);
  }

  private static void awaitStatus(String key, String id, String wanted) {
    api.awaitStatus(key, id, wanted, RouterHarness.await());
  }
}
