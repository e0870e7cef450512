package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.JavaProcess;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several router replicas on one Postgres and Kafka: they share the queue and the workers, survive
 * a replica's SIGKILL under load, and hand work over on SIGTERM.
 */
class RouterReplicasIT {
  private Cluster cluster;
  private EventLog events;
  private String key;

  @BeforeEach
  void start() {
    cluster = new Cluster("replicas");
    events = new EventLog(cluster.infra.kafka().bootstrap(), cluster.topic);
  }

  /** The first replica (it migrates the database) and a user of it. */
  private Cluster.Router firstRouter() {
    Cluster.Router a = cluster.router("router-a", Map.of());
    key = cluster.createUser("studio");
    return a;
  }

  @AfterEach
  void stop() {
    events.close();
    cluster.close();
  }

  private static String body(int steps) {
    return "{\"model\": \"sd-1.5\", \"prompt\": \"replicas\", \"steps\": " + steps + ", \"width\": 64, \"height\": 64}";
  }

  @Test
  void aJobSubmittedToOneReplicaRunsOnAWorkerOfAnotherAndStreamsToTheFirst() {
    Cluster.Router a = firstRouter();
    Cluster.Router b = cluster.router("router-b", Map.of());
    cluster.worker("only-on-b", List.of(b), Map.of());
    ApiClient apiA = new ApiClient(a.url());
    try (ApiClient.EventStream streamOnA = apiA.stream(key)) {
      String job = apiA.post("/v1/generations", key, body(3)).json().getString("id");
      JsonObject done = streamOnA.awaitEvent(e -> job.equals(e.getString("job_id"))
          && "job.succeeded".equals(e.getString("type")), Duration.ofSeconds(30));
      assertThat(done.getString("worker_id")).isEqualTo("only-on-b");
      JsonObject dispatched = events.of(job).stream().filter(e -> "job.dispatched".equals(e.getString("type")))
          .findFirst().orElseThrow();
      assertThat(dispatched.getString("router_id")).startsWith("router-b");
      assertThat(new ApiClient(b.url()).get("/v1/generations/" + job, key).json().getString("status"))
          .isEqualTo("succeeded");
    }
  }

  @Test
  void everyAcceptedJobFinishesExactlyOnceWhenAReplicaIsKilledUnderLoad() throws Exception {
    Cluster.Router a = firstRouter();
    Cluster.Router b = cluster.router("router-b", Map.of());
    List<JavaProcess> workers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      workers.add(cluster.worker("w" + i, List.of(a, b), Map.of("PINGVAS_ENGINE_STEP_TIME", "50ms")));
    }
    List<String> accepted = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean submitting = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      ApiClient apiA = new ApiClient(a.url());
      ApiClient apiB = new ApiClient(b.url());
      int i = 0;
      while (submitting.get()) {
        ApiClient target = (i++ % 2 == 0 && a.process().alive()) ? apiA : apiB;
        try {
          ApiClient.Response r = target.post("/v1/generations", key, body(10));
          if (r.status() == 202) {
            accepted.add(r.json().getString("id"));
          }
        } catch (RuntimeException e) {
          // the killed replica refuses connections: the client moves on
        }
        pause(40);
      }
    }, "load");
    load.start();
    pause(4_000);
    a.process().kill();
    long killedAt = System.nanoTime();
    pause(4_000);
    submitting.set(false);
    load.join();
    assertThat(accepted).hasSizeGreaterThan(30);

    Set<String> ids = new HashSet<>(accepted);
    events.await(all -> events.terminal().keySet().containsAll(ids), Duration.ofSeconds(90),
        "every accepted job to finish");
    Duration recovery = Duration.ofNanos(System.nanoTime() - killedAt);
    Map<String, String> terminal = events.terminal();
    assertThat(ids).allSatisfy(id -> assertThat(terminal.get(id)).isEqualTo("job.succeeded"));

    // exactly once: one successful attempt per job, even if the relay re-published an event
    Map<String, Set<Integer>> successfulAttempts = new HashMap<>();
    events.events().stream().filter(e -> "job.succeeded".equals(e.getString("type")))
        .forEach(e -> successfulAttempts.computeIfAbsent(e.getString("job_id"), k -> new HashSet<>())
            .add(e.getInteger("attempt")));
    assertThat(successfulAttempts.values()).allSatisfy(attempts -> assertThat(attempts).hasSize(1));

    // never on two live workers at once
    List<Cluster.Execution> runs = new ArrayList<>();
    for (JavaProcess w : workers) {
      runs.addAll(Cluster.executions(w));
    }
    Map<String, List<Cluster.Execution>> byJob = new HashMap<>();
    runs.forEach(r -> byJob.computeIfAbsent(r.jobId(), k -> new ArrayList<>()).add(r));
    byJob.forEach((job, executions) -> {
      for (int i = 0; i < executions.size(); i++) {
        for (int j = i + 1; j < executions.size(); j++) {
          assertThat(executions.get(i).overlaps(executions.get(j)))
              .as("job %s ran twice at once: %s", job, executions).isFalse();
        }
      }
    });
    System.out.printf("replica kill: %d jobs accepted, all succeeded once; all done %d ms after the kill%n",
        ids.size(), recovery.toMillis());
  }

  @Test
  void aTerminatedReplicaHandsItsRunningJobToAnotherWithoutARetry() {
    Cluster.Router a = firstRouter();
    Cluster.Router b = cluster.router("router-b", Map.of());
    cluster.worker("w1", List.of(a, b), Map.of("PINGVAS_ENGINE_STEP_TIME", "50ms"));
    ApiClient apiA = new ApiClient(a.url());
    String job = apiA.post("/v1/generations", key, body(80)).json().getString("id");
    events.await(all -> all.stream().anyMatch(e -> job.equals(e.getString("job_id"))
        && "job.started".equals(e.getString("type"))), Duration.ofSeconds(20), "start");

    a.process().terminate();
    int exit = a.process().waitFor(Duration.ofSeconds(15));
    assertThat(exit).as("replica exits after SIGTERM within the grace").isIn(0, 143);
    events.await(all -> all.stream().anyMatch(e -> job.equals(e.getString("job_id"))
        && "job.succeeded".equals(e.getString("type"))), Duration.ofSeconds(30), "success");
    assertThat(events.of(job)).noneMatch(e -> e.getBoolean("retry", false));
    JsonObject done = new ApiClient(b.url()).get("/v1/generations/" + job, key).json();
    assertThat(done.getString("status")).isEqualTo("succeeded");
    assertThat(done.getInteger("attempt")).isEqualTo(1);
  }

  @Test
  void aTerminatedReplicaHandsBackAJobWaitingInAWorkersQueueWithoutUsingAnAttempt() {
    // an exact step estimate and a 4 s claim-ahead: a busy worker's next job waits ~4 s in its queue,
    // and router-a's dispatcher stops ~1 s after its SIGTERM (its shutdown grace), while it waits
    Map<String, String> ahead = Map.of("PINGVAS_SCHEDULER_STEP_ESTIMATE", "100ms",
        "PINGVAS_SCHEDULER_CLAIM_AHEAD", "4s");
    Map<String, String> aheadAndQuickStop = new HashMap<>(ahead);
    aheadAndQuickStop.put("PINGVAS_SHUTDOWN_GRACE", "1s");
    Cluster.Router a = cluster.router("router-a", aheadAndQuickStop);
    key = cluster.createUser("studio");
    Cluster.Router b = cluster.router("router-b", ahead);
    cluster.worker("w1", List.of(a, b), Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
    ApiClient apiA = new ApiClient(a.url());
    String running = apiA.post("/v1/generations", key, body(80)).json().getString("id");
    events.await(all -> all.stream().anyMatch(e -> running.equals(e.getString("job_id"))
        && "job.started".equals(e.getString("type"))), Duration.ofSeconds(20), "start");
    String next = apiA.post("/v1/generations", key, body(3)).json().getString("id");
    events.await(all -> all.stream().anyMatch(e -> next.equals(e.getString("job_id"))
        && "job.dispatched".equals(e.getString("type"))), Duration.ofSeconds(20), "next job sent ahead");
    JsonObject sent = events.of(next).stream().filter(e -> "job.dispatched".equals(e.getString("type")))
        .findFirst().orElseThrow();
    assertThat(sent.getString("router_id")).as("sent by the replica about to stop").startsWith("router-a");
    assertThat(apiA.get("/v1/generations/" + running, key).json().getString("status"))
        .as("the job ahead of it still runs, so it waits in the worker's queue").isEqualTo("running");

    a.process().terminate();
    int exit = a.process().waitFor(Duration.ofSeconds(15));
    assertThat(exit).as("replica exits after SIGTERM within the grace").isIn(0, 143);
    events.await(all -> all.stream().anyMatch(e -> next.equals(e.getString("job_id"))
        && "job.succeeded".equals(e.getString("type"))), Duration.ofSeconds(30), "next job's success");
    // handed back by the worker and re-queued unused (not left to router-a's lease, then re-queued
    // as a retry with an attempt counted)
    List<JsonObject> history = events.of(next);
    assertThat(history).filteredOn(e -> "job.queued".equals(e.getString("type"))
        && e.getInteger("seq") > sent.getInteger("seq")).hasSize(1);
    assertThat(history).noneMatch(e -> e.getBoolean("retry", false));
    assertThat(new ApiClient(b.url()).get("/v1/generations/" + next, key).json().getString("status"))
        .isEqualTo("succeeded");
    assertThat(new ApiClient(b.url()).get("/v1/generations/" + running, key).json().getInteger("attempt"))
        .as("the running job was adopted, not retried").isEqualTo(1);
  }

  @Test
  void aTerminatedWorkerFinishesItsJobTakesNoNewOneAndExits() {
    Cluster.Router a = firstRouter();
    JavaProcess worker = cluster.worker("draining", List.of(a), Map.of("PINGVAS_ENGINE_STEP_TIME", "50ms"));
    ApiClient api = new ApiClient(a.url());
    String running = api.post("/v1/generations", key, body(60)).json().getString("id");
    events.await(all -> all.stream().anyMatch(e -> running.equals(e.getString("job_id"))
        && "job.started".equals(e.getString("type"))), Duration.ofSeconds(20), "start");

    worker.terminate();
    String later = api.post("/v1/generations", key, body(3)).json().getString("id");
    int exit = worker.waitFor(Duration.ofSeconds(30));
    assertThat(exit).as("the worker exits once its job is done").isIn(0, 143);
    JsonObject done = api.get("/v1/generations/" + running, key).json();
    assertThat(done.getString("status")).isEqualTo("succeeded");
    assertThat(done.getInteger("attempt")).isEqualTo(1);
    assertThat(api.get("/v1/generations/" + later, key).json().getString("status")).isEqualTo("queued");
    assertThat(events.of(later)).noneMatch(e -> "job.dispatched".equals(e.getString("type")));
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
