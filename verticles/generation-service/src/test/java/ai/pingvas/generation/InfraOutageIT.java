package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.testing.Http;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Postgres restarts, fails over leaving connections half-open, and Kafka goes away under load:
 * readiness turns false or submissions get 503 while it lasts, the router recovers by itself,
 * nothing accepted is lost and the outbox drains. Uses its own Postgres and Kafka so other test
 * classes are not disturbed; the router reaches Postgres through a relay that can leave its
 * connections half-open.
 */
class InfraOutageIT {
  private static final HttpClient HTTP = Http.client();
  private static LocalInfra infra;
  private static TcpProxy pgLink;
  private static RouterHarness harness;
  private static ApiClient api;
  private static String key;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("pingvas-outage");
    infra = LocalInfra.start(new LocalInfra.Options(dir, 0, 0, 0, false, true, true, false, List.of()));
    // objects go to the shared S3: this test only stops Postgres and Kafka
    LocalInfra withS3 = LocalInfra.borrowing(infra.postgres(), infra.kafka(), SharedInfra.get().s3());
    int pgPort = infra.postgres().port();
    pgLink = new TcpProxy(pgPort);
    String url = infra.postgres().createDatabase("outage").replace(":" + pgPort + "/", ":" + pgLink.port() + "/");
    harness = new RouterHarness("outage", withS3, url)
        // short enough for a test to wait out; the defaults are 30 s and 35 s
        .with("PINGVAS_PG_STATEMENT_TIMEOUT", "2s").with("PINGVAS_PG_RESPONSE_TIMEOUT", "3s")
        .startedWithWorker("outage-worker", Map.of());
    api = new ApiClient(harness.baseUrl());
    key = harness.createUser("studio");
  }

  @AfterAll
  static void stop() throws Exception {
    harness.close();
    pgLink.close();
    infra.close();
  }

  @Test
  void survivesAPostgresRestartAndAKafkaOutageLosingNothing() throws Exception {
    try (Load load = new Load("outage")) {
      pause(2_000);

      // Postgres crashes and comes back
      infra.postgres().kill();
      awaitTrue(() -> ready() == 503, Duration.ofSeconds(15), "readiness to turn false without Postgres");
      awaitTrue(() -> load.count(503) > 0, Duration.ofSeconds(15), "submissions to get 503");
      pause(1_500);
      infra.postgres().restart();
      awaitTrue(() -> ready() == 200, Duration.ofSeconds(60), "readiness to recover after Postgres");
      int acceptedAfterPg = load.accepted.size();
      pause(2_000);
      assertThat(load.accepted.size()).as("accepting again after Postgres came back").isGreaterThan(acceptedAfterPg);

      // Kafka goes away: work goes on, events wait in the outbox
      int before503 = load.count(503);
      infra.kafka().kill();
      awaitTrue(() -> ready() == 503, Duration.ofSeconds(20), "readiness to turn false without Kafka");
      awaitTrue(() -> load.count(503) > before503, Duration.ofSeconds(15), "submissions to get 503");
      awaitTrue(() -> harness.count("SELECT count(*) FROM generation.outbox") > 0, Duration.ofSeconds(15),
          "events to wait in the outbox");
      infra.kafka().restart();
      awaitTrue(() -> ready() == 200, Duration.ofSeconds(60), "readiness to recover after Kafka");
      awaitTrue(() -> harness.count("SELECT count(*) FROM generation.outbox") == 0, Duration.ofSeconds(60),
          "the outbox to drain");
      pause(1_000);
      load.stop();
      load.assertEveryAcceptedJobSucceeds(20);
    }
  }

  /**
   * A failover (or partition) leaves every open connection half-open: the old server never closes
   * them, and the new one takes new connections. Nothing tells the router, and the kernel would keep
   * retransmitting its statements for ~15 minutes while every submission waited behind the one insert
   * in flight. The router closes connections whose server owes answers and stays silent for
   * pg.response-timeout (3 s here), and goes on over new ones.
   */
  @Test
  void aFailoverLeavingConnectionsHalfOpenHoldsSubmissionsOnlyForTheResponseTimeout() throws Exception {
    double closedBefore = api.metric("pingvas_pg_connections_unresponsive_total", "reason=\"silent\"");
    assertThat(api.metric("pingvas_pg_connections_watched")).as("the router's connections are watched").isPositive();
    // the statements in flight never reached a server
    double waited = ridesOutAFailover("half-open", pgLink::freezeAll);
    assertThat(api.metric("pingvas_pg_connections_unresponsive_total", "reason=\"silent\""))
        .as("half-open connections closed by the watchdog").isGreaterThan(closedBefore);
    System.out.printf("half-open failover: accepting again %.1f s after the freeze; connections closed: %.0f silent, "
        + "%.0f idle%n", waited, api.metric("pingvas_pg_connections_unresponsive_total", "reason=\"silent\""),
        api.metric("pingvas_pg_connections_unresponsive_total", "reason=\"suspect\""));
  }

  /**
   * A failover can also lose just the answers: the statements in flight took effect and the router
   * was never told. A submission whose insert committed is accepted (its jobs are looked up over a
   * new connection), not answered 503 while its job is stored and runs; claims and results that
   * committed unseen are recovered, and every accepted job succeeds.
   */
  @Test
  void aFailoverThatLosesOnlyTheAnswersNeitherLosesNorInventsJobs() throws Exception {
    ridesOutAFailover("answers-lost", pgLink::freezeReplies);
  }

  /**
   * Submits {@code prompt} jobs, {@code fail}s the link to Postgres under that load, and waits for
   * submissions to be accepted again, readiness, and the outbox to drain (the relay's own connection
   * failed too). Then every accepted job succeeds and none was stored that was not accepted (a 503
   * left nothing behind). Returns the seconds from the failure to accepting again.
   */
  private static double ridesOutAFailover(String prompt, Runnable fail) throws Exception {
    try (Load load = new Load(prompt)) {
      awaitTrue(() -> load.accepted.size() >= 10, Duration.ofSeconds(30), "submissions to be accepted");
      fail.run();
      long failedAt = System.nanoTime();
      int acceptedAtFailure = load.accepted.size();
      awaitTrue(() -> load.accepted.size() >= acceptedAtFailure + 10, Duration.ofSeconds(30),
          "submissions to be accepted again over new connections");
      double waited = (System.nanoTime() - failedAt) / 1e9;
      awaitTrue(() -> ready() == 200, Duration.ofSeconds(30), "readiness after the failover");
      load.stop();
      awaitTrue(() -> harness.count("SELECT count(*) FROM generation.outbox") == 0, Duration.ofSeconds(30),
          "the outbox to drain");
      load.assertEveryAcceptedJobSucceeds(20);
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE prompt = '" + prompt + "'"))
          .as("jobs stored: only the accepted ones").isEqualTo(load.accepted.size());
      return waited;
    }
  }

  /**
   * A claim that commits unseen (its answer lost as the link fails): the dispatcher hears that it
   * failed, while a job it dispatched would wait for a worker that never got it. The dispatcher puts
   * such jobs back in the queue, giving the attempt back, and every job of the burst runs.
   */
  @Test
  void aClaimThatCommitsUnseenPutsItsJobBackAndItRuns() throws Exception {
    // fresh connections prepare the claim again, so its text goes over the wire
    pgLink.freezeRepliesAfter("attempt = j.attempt + 1, worker_id = i.worker");
    pgLink.dropAll();
    // one worker with a slot and a queue of one: a burst of longer jobs is claimed as slots free
    List<String> ids = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ids.size() < 12) {
      ApiClient.Response r = api.post("/v1/generations", key,
          "{\"model\": \"sd-1.5\", \"prompt\": \"claim-lost\", \"steps\": 20, \"width\": 64, \"height\": 64}");
      if (r.status() == 202) {
        ids.add(r.json().getString("id"));
      } else {
        assertThat(r.status()).as("only 503 while the relay's connections come back").isEqualTo(503);
        assertThat(System.nanoTime()).as("submissions accepted again").isLessThan(deadline);
        pause(100);
      }
    }
    awaitTrue(pgLink::tripped, Duration.ofSeconds(60), "a claim to go out");
    String in = String.join("','", ids);
    awaitTrue(() -> harness.count("SELECT count(*) FROM generation.jobs WHERE id IN ('" + in
        + "') AND status = 'succeeded'") == ids.size(), Duration.ofSeconds(90), "every job of the burst to succeed");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id IN ('" + in
        + "') AND NOT (attempt = 1 AND max_attempts = 3 OR attempt = 2 AND max_attempts = 4)"))
        .as("no job lost an attempt to the failed claim").isZero();
    // whether the claim had dispatched a job (put back, run on attempt 2 of 4) depends on the race
    // with the worker's next free slot; either way nothing waits for the execution timeout
    System.out.printf("claim lost: %d of %d jobs put back and run again%n", harness.count("SELECT count(*) FROM "
        + "generation.jobs WHERE id IN ('" + in + "') AND attempt = 2 AND max_attempts = 4"), ids.size());
  }

  /** Submits a job every 50 ms until stopped, recording every answer. */
  private static final class Load implements AutoCloseable {
    final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final String prompt;
    private final Thread thread;

    Load(String prompt) {
      this.prompt = prompt;
      this.thread = new Thread(this::run, "outage-load");
      thread.start();
    }

    private void run() {
      while (running.get()) {
        try {
          ApiClient.Response r = api.post("/v1/generations", key, "{\"model\": \"sd-1.5\", \"prompt\": \"" + prompt
              + "\", \"steps\": 2, \"width\": 64, \"height\": 64}");
          statuses.merge(r.status(), 1, Integer::sum);
          if (r.status() == 202) {
            accepted.add(r.json().getString("id"));
          }
        } catch (RuntimeException e) {
          statuses.merge(-1, 1, Integer::sum);
        }
        pause(50);
      }
    }

    int count(int status) {
      return statuses.getOrDefault(status, 0);
    }

    void stop() throws InterruptedException {
      running.set(false);
      thread.join();
    }

    /** Only 202 and 503 were answered, and every accepted job succeeds. */
    void assertEveryAcceptedJobSucceeds(int atLeast) {
      assertThat(statuses.keySet()).as("only 202 and 503, never a 5xx of another kind: %s", statuses)
          .isSubsetOf(202, 503);
      assertThat(accepted).hasSizeGreaterThanOrEqualTo(atLeast);
      String ids = String.join("','", accepted);
      awaitTrue(() -> harness.count("SELECT count(*) FROM generation.jobs WHERE id IN ('" + ids
          + "') AND status = 'succeeded'") == accepted.size(), Duration.ofSeconds(90), "every accepted job to succeed");
      System.out.printf("%s: %d accepted (all succeeded), responses %s%n", prompt, accepted.size(), statuses);
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }

  private static int ready() {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(harness.baseUrl() + "/health/ready"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean ok;
      try {
        ok = condition.getAsBoolean();
      } catch (RuntimeException e) {
        ok = false;
      }
      if (ok) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      pause(100);
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
