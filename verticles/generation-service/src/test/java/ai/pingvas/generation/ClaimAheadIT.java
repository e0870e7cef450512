package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * For a worker without a queue ({@code worker.queue=0}, as workers before it): a busy worker's next
 * job is claimed shortly before its running job ends and held by the router: it is sent when that
 * job ends (never alongside it), a cancel drops it without the worker ever seeing it, and a drain
 * hands it back to the queue without using up one of its attempts. {@link QueueAheadIT} covers
 * workers with a queue.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClaimAheadIT {
  private static final String WORKER = "ahead-worker";
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    // one worker, one slot, 100 ms per step; the router knows the pace and claims 1 s ahead
    harness = new RouterHarness("claimahead")
        .with("PINGVAS_SCHEDULER_STEP_ESTIMATE", "100ms")
        .with("PINGVAS_SCHEDULER_CLAIM_AHEAD", "1s")
        .startedWithWorker(WORKER, Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms", "PINGVAS_WORKER_QUEUE", "0"));
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  @Order(1)
  void theNextJobIsClaimedWhileTheWorkerIsBusyAndSentOnlyWhenItsJobEnds() throws Exception {
    String key = harness.createUser("pro");
    double aheadBefore = api.metric("pingvas_claimed_ahead_total");
    String first = submit(key, "first", 30);
    awaitStatus(key, first, "running");
    String second = submit(key, "second", 5);

    boolean sawHeld = false;
    boolean sawOverlap = false;
    String both = "SELECT count(*) FROM generation.jobs a, generation.jobs b WHERE a.id = '" + first + "' AND b.id = '"
        + second + "' AND ";
    long deadline = System.nanoTime() + RouterHarness.await().toNanos();
    while (System.nanoTime() < deadline) {
      // one snapshot per question: both rows read together
      sawHeld |= harness.count(both + "a.status = 'running' AND b.status = 'dispatched'") == 1;
      // the worker reports the first job's last step before its result; the second must not start before that
      sawOverlap |= harness.count(both + "a.progress_step < a.progress_total AND b.status IN ('running', 'succeeded')")
          == 1;
      if ("succeeded".equals(status(second))) {
        break;
      }
      Thread.sleep(10);
    }
    System.out.println("claim-ahead timeline: " + timeline(first) + " | " + timeline(second));
    assertThat(sawHeld).as("the second job was claimed for the worker while the first still ran").isTrue();
    assertThat(sawOverlap).as("the second job started before the first reported its last step").isFalse();
    assertThat(status(first)).isEqualTo("succeeded");
    assertThat(status(second)).isEqualTo("succeeded");
    // it ran on its first attempt, and the hold used up no try
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + second + "' AND attempt = 1"
        + " AND max_attempts = 3 AND worker_id = '" + WORKER + "'")).isEqualTo(1);
    // claimed well before the first ended (its success is committed after the second is sent, so the
    // two timestamps below are only ordered by the first's three seconds of steps)
    assertThat(harness.count(both + "b.dispatched_at < a.finished_at - interval '300 milliseconds'"
        + " AND b.started_at > a.started_at + interval '2 seconds'")).isEqualTo(1);
    assertThat(api.metric("pingvas_claimed_ahead_total")).isGreaterThanOrEqualTo(aheadBefore + 1);
  }

  @Test
  @Order(2)
  void aCanceledHeldJobNeverReachesTheWorkerAndItsSlotIsNotLost() throws Exception {
    String key = harness.createUser("pro");
    double fencedBefore = api.metric("pingvas_results_fenced_total");
    Pair jobs = heldBehindRunning(key, "long");
    String first = jobs.running();
    String held = jobs.held();

    ApiClient.Response canceled = api.post("/v1/generations/" + held + "/cancel", key, "");
    assertThat(canceled.status()).isEqualTo(200);
    assertThat(canceled.json().getString("status")).isEqualTo("canceled");
    awaitStatus(key, first, "succeeded");

    // the worker never ran it: no start, no progress, nothing fenced
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + held + "' AND status = 'canceled'"
        + " AND started_at IS NULL AND progress_step = 0")).isEqualTo(1);
    // and the worker is free: the next job is placed on it at admission and runs
    String next = submit(key, "after", 3);
    awaitStatus(key, next, "succeeded");
    assertThat(api.metric("pingvas_results_fenced_total")).isEqualTo(fencedBefore);
    assertThat(status(held)).isEqualTo("canceled");
  }

  @Test
  @Order(3)
  void aDrainingWorkerHandsItsHeldJobBackToTheQueueWithoutUsingAnAttempt() throws Exception {
    String key = harness.createUser("pro");
    String admin = harness.createAdmin();
    double returnedBefore = api.metric("pingvas_claimed_ahead_returned_total");
    Pair jobs = heldBehindRunning(key, "before drain");
    String first = jobs.running();
    String held = jobs.held();

    assertThat(api.post("/v1/admin/workers/" + WORKER + "/drain", admin, "").status()).isEqualTo(202);
    // back in the queue at once, while the draining worker finishes its running job
    awaitStatus(key, held, "queued");
    assertThat(status(first)).isIn("running", "succeeded");
    awaitStatus(key, first, "succeeded");
    assertThat(status(held)).isEqualTo("queued");

    harness.startWorker("ahead-worker-2", Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms", "PINGVAS_WORKER_QUEUE", "0"))
        .toCompletionStage()
        .toCompletableFuture().join();
    awaitStatus(key, held, "succeeded");
    // the claim ahead was attempt 1 and handed back unused (max_attempts grew with it); it ran as attempt 2
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + held + "' AND attempt = 2"
        + " AND max_attempts = 4 AND worker_id = 'ahead-worker-2'")).isEqualTo(1);
    assertThat(api.metric("pingvas_claimed_ahead_returned_total")).isGreaterThanOrEqualTo(returnedBefore + 1);
  }

  @Test
  @Order(4)
  void cancelingTheRunningJobStartsTheHeldOneAtOnceWithoutUsingAnAttempt() throws Exception {
    // ahead-worker-2 (from the drain test) is the worker now
    String key = harness.createUser("pro");
    Pair jobs = heldBehindRunning(key, "to cancel", "ahead-worker-2");
    assertThat(api.post("/v1/generations/" + jobs.running() + "/cancel", key, "").status()).isEqualTo(200);
    // the held job is sent with the cancel; the worker starts it while the canceled one winds down
    awaitStatus(key, jobs.held(), "succeeded");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + jobs.held() + "' AND attempt = 1"
        + " AND max_attempts = 3 AND worker_id = 'ahead-worker-2'")).isEqualTo(1);
    assertThat(status(jobs.running())).isEqualTo("canceled");
  }

  private static String submit(String key, String prompt, int steps) {
    return api.submit(key, "sd-1.5", prompt, steps);
  }

  private static String timeline(String jobId) {
    StringBuilder out = new StringBuilder(jobId.substring(0, 8));
    for (String column : new String[] {"dispatched_at", "started_at", "finished_at"}) {
      out.append(' ').append(column).append('=').append(harness.count("SELECT coalesce((extract(epoch FROM " + column
          + ") * 1000)::bigint, 0) FROM generation.jobs WHERE id = '" + jobId + "'") % 100_000);
    }
    return out.toString();
  }

  private static String status(String jobId) {
    for (String s : new String[] {"queued", "dispatched", "running", "succeeded", "failed", "canceled"}) {
      if (harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + jobId + "' AND status = '" + s + "'")
          == 1) {
        return s;
      }
    }
    return null;
  }

  /** A 3 s job running on the worker, and a second job claimed ahead for it (held by the router). */
  private record Pair(String running, String held) {
  }

  private static Pair heldBehindRunning(String key, String prompt) throws InterruptedException {
    return heldBehindRunning(key, prompt, WORKER);
  }

  private static Pair heldBehindRunning(String key, String prompt, String worker) throws InterruptedException {
    String running = submit(key, prompt, 30);
    awaitStatus(key, running, "running");
    String held = submit(key, prompt + " (next)", 5);
    awaitHeldWhile(running, held, worker);
    return new Pair(running, held);
  }

  /** Waits until {@code held} is claimed for the worker while {@code running} still runs. */
  private static void awaitHeldWhile(String running, String held, String worker) throws InterruptedException {
    long deadline = System.nanoTime() + RouterHarness.await().toNanos();
    while (System.nanoTime() < deadline) {
      if (harness.count("SELECT count(*) FROM generation.jobs a, generation.jobs b WHERE a.id = '" + running
          + "' AND a.status = 'running' AND b.id = '" + held + "' AND b.status = 'dispatched'"
          + " AND b.worker_id = '" + worker + "'") == 1) {
        return;
      }
      Thread.sleep(10);
    }
    assertThat(status(held)).as("job claimed ahead while " + running + " runs").isEqualTo("dispatched");
  }

  private static void awaitStatus(String key, String id, String wanted) {
    api.awaitStatus(key, id, wanted, RouterHarness.await());
  }
}
