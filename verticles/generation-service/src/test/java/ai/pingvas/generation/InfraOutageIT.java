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
 * Postgres restarts and Kafka goes away under load: readiness turns false and submissions get 503
 * while it lasts, the router recovers by itself, nothing accepted is lost and the outbox drains.
 * Uses its own Postgres and Kafka so other test classes are not disturbed.
 */
class InfraOutageIT {
  private static final HttpClient HTTP = Http.client();
  private static LocalInfra infra;
  private static RouterHarness harness;
  private static ApiClient api;
  private static String key;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("pingvas-outage");
    infra = LocalInfra.start(new LocalInfra.Options(dir, 0, 0, 0, false, true, true, false, List.of()));
    // objects go to the shared S3: this test only stops Postgres and Kafka
    LocalInfra withS3 = LocalInfra.borrowing(infra.postgres(), infra.kafka(), SharedInfra.get().s3());
    harness = new RouterHarness("outage", withS3, infra.postgres().createDatabase("outage"))
        .startedWithWorker("outage-worker", Map.of());
    api = new ApiClient(harness.baseUrl());
    key = harness.createUser("studio");
  }

  @AfterAll
  static void stop() {
    harness.close();
    infra.close();
  }

  @Test
  void survivesAPostgresRestartAndAKafkaOutageLosingNothing() throws Exception {
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicBoolean running = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      while (running.get()) {
        try {
          ApiClient.Response r = api.post("/v1/generations", key,
              "{\"model\": \"sd-1.5\", \"prompt\": \"outage\", \"steps\": 2, \"width\": 64, \"height\": 64}");
          statuses.merge(r.status(), 1, Integer::sum);
          if (r.status() == 202) {
            accepted.add(r.json().getString("id"));
          }
        } catch (RuntimeException e) {
          statuses.merge(-1, 1, Integer::sum);
        }
        pause(50);
      }
    }, "outage-load");
    load.start();
    pause(2_000);

    // Postgres crashes and comes back
    infra.postgres().kill();
    awaitTrue(() -> ready() == 503, Duration.ofSeconds(15), "readiness to turn false without Postgres");
    awaitTrue(() -> statuses.getOrDefault(503, 0) > 0, Duration.ofSeconds(15), "submissions to get 503");
    pause(1_500);
    infra.postgres().restart();
    awaitTrue(() -> ready() == 200, Duration.ofSeconds(60), "readiness to recover after Postgres");
    int acceptedAfterPg = accepted.size();
    pause(2_000);
    assertThat(accepted.size()).as("accepting again after Postgres came back").isGreaterThan(acceptedAfterPg);

    // Kafka goes away: work goes on, events wait in the outbox
    int before503 = statuses.getOrDefault(503, 0);
    infra.kafka().kill();
    awaitTrue(() -> ready() == 503, Duration.ofSeconds(20), "readiness to turn false without Kafka");
    awaitTrue(() -> statuses.getOrDefault(503, 0) > before503, Duration.ofSeconds(15), "submissions to get 503");
    awaitTrue(() -> harness.count("SELECT count(*) FROM generation.outbox") > 0, Duration.ofSeconds(15),
        "events to wait in the outbox");
    infra.kafka().restart();
    awaitTrue(() -> ready() == 200, Duration.ofSeconds(60), "readiness to recover after Kafka");
    awaitTrue(() -> harness.count("SELECT count(*) FROM generation.outbox") == 0, Duration.ofSeconds(60),
        "the outbox to drain");
    pause(1_000);
    running.set(false);
    load.join();

    assertThat(statuses.keySet()).as("only 202 and 503, never a 5xx of another kind: %s", statuses)
        .isSubsetOf(202, 503);
    assertThat(accepted).hasSizeGreaterThan(20);
    String ids = String.join("','", accepted);
    awaitTrue(() -> harness.count("SELECT count(*) FROM generation.jobs WHERE id IN ('" + ids
        + "') AND status = 'succeeded'") == accepted.size(), Duration.ofSeconds(90), "every accepted job to succeed");
    System.out.printf("outages: %d accepted (all succeeded), responses %s%n", accepted.size(), statuses);
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
