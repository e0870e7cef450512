package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.ApiClient.EventStream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The operator API (admin only) and resuming a client's event stream after a drop. */
class OperatorAndResumeIT {
  private static RouterHarness harness;
  private static ApiClient api;
  private static String admin;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("operator").with("PINGVAS_RETRY_BACKOFF_BASE", "100ms")
        .startedWithWorker("op-worker", Map.of("PINGVAS_ENGINE_STEP_TIME", "50ms",
            "PINGVAS_ENGINE_MODEL_LOAD_TIME", "400ms"));
    api = new ApiClient(harness.baseUrl());
    admin = harness.createAdmin();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static JsonObject awaitStatus(String key, String id, String status) {
    return api.awaitStatus(key, id, status, Duration.ofSeconds(30));
  }

  @Test
  void onlyAdminsSeeTheOperatorApi() {
    String user = harness.createUser("pro");
    ApiClient.Response forbidden = api.get("/v1/admin/overview", user);
    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.json().getString("code")).isEqualTo("forbidden");
    assertThat(api.post("/v1/admin/jobs/requeue", user, "{\"job_ids\": [\"" + java.util.UUID.randomUUID() + "\"]}")
        .status()).isEqualTo(403);
    assertThat(api.get("/v1/admin/overview", null).status()).isEqualTo(401);
  }

  @Test
  void overviewShowsTheQueueTheWorkersAndTheirJobs() {
    String user = harness.createUser("pro");
    String running = api.post("/v1/generations", user,
        "{\"model\": \"sd-1.5\", \"prompt\": \"watch me\", \"steps\": 60, \"width\": 64, \"height\": 64}")
        .json().getString("id");
    awaitStatus(user, running, "running");
    JsonObject overview = api.get("/v1/admin/overview", admin).json();
    JsonArray workers = overview.getJsonArray("workers");
    JsonObject worker = workers.stream().map(JsonObject.class::cast)
        .filter(w -> "op-worker".equals(w.getString("id"))).findFirst().orElseThrow();
    assertThat(worker.getString("gpu")).isNotBlank();
    assertThat(worker.getInteger("slots")).isEqualTo(1);
    assertThat(worker.getJsonArray("models").getList()).contains("sd-1.5");
    assertThat(worker.getLong("heartbeat_age_ms")).isBetween(0L, 10_000L);
    assertThat(worker.getJsonArray("jobs")).anyMatch(j -> running.equals(((JsonObject) j).getString("job_id")));
    assertThat(overview.getJsonObject("queue").getInteger("running")).isGreaterThanOrEqualTo(1);
    assertThat(overview.getJsonArray("replicas")).hasSize(1);

    // an admin cancels someone else's job
    ApiClient.Response canceled = api.post("/v1/admin/jobs/" + running + "/cancel", admin, "");
    assertThat(canceled.status()).isEqualTo(200);
    assertThat(canceled.json().getString("status")).isEqualTo("canceled");
    assertThat(api.get("/v1/generations/" + running, user).json().getString("status")).isEqualTo("canceled");
  }

  @Test
  void theRouterLearnsAModelsLoadTimeFromItsWorkers() {
    String user = harness.createUser("pro");
    // sdxl is loaded by no other test here: the worker loads it (400 ms) and reports that
    String id = api.post("/v1/generations", user,
        "{\"model\": \"sdxl\", \"prompt\": \"a cold start\", \"steps\": 2, \"width\": 64, \"height\": 64}")
        .json().getString("id");
    awaitStatus(user, id, "succeeded");
    JsonObject mine = api.get("/v1/admin/overview", admin).json().getJsonArray("replicas").getJsonObject(0);
    assertThat(mine.getJsonObject("model_load_ms").getLong("sdxl")).isBetween(400L, 5_000L);
  }

  @Test
  void requeuesFailedJobsWithFreshAttempts() {
    String user = harness.createUser("pro");
    String id = api.post("/v1/generations", user, "{\"model\": \"sd-1.5\", \"prompt\": \"!fail@1:bad_request x\", "
        + "\"steps\": 3, \"width\": 64, \"height\": 64}").json().getString("id");
    JsonObject failed = awaitStatus(user, id, "failed");
    assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("bad_request");
    assertThat(api.get("/v1/admin/overview", admin).json().getJsonArray("recent_failures"))
        .anyMatch(f -> id.equals(((JsonObject) f).getString("job_id")));

    JsonObject requeued = api.post("/v1/admin/jobs/requeue", admin, "{\"job_ids\": [\"" + id + "\"]}").json();
    assertThat(requeued.getInteger("requeued")).isEqualTo(1);
    JsonObject done = awaitStatus(user, id, "succeeded");
    assertThat(done.getInteger("attempt")).isEqualTo(2);
    assertThat(api.post("/v1/admin/jobs/requeue", admin, "{\"job_ids\": [\"" + id + "\"]}").json()
        .getInteger("requeued")).as("only failed jobs are re-queued").isZero();
  }

  @Test
  void aResumedStreamReplaysWhatItMissedInOrder() {
    String user = harness.createUser("pro");
    String id;
    int lastSeen;
    try (EventStream first = api.stream(user)) {
      id = api.post("/v1/generations", user, "{\"model\": \"sd-1.5\", \"prompt\": \"resume me\", \"steps\": 30, "
          + "\"width\": 64, \"height\": 64}").json().getString("id");
      String job = id;
      JsonObject started = first.awaitEvent(e -> job.equals(e.getString("job_id"))
          && "job.started".equals(e.getString("type")), Duration.ofSeconds(15));
      lastSeen = started.getInteger("seq");
    }
    // disconnected while the job goes on to finish: its progress events are kept for the resume
    // from their headers alone (no stream of the owner here, no queue change), unparsed
    double unparsedBefore = api.metric("pingvas_events_unparsed_total");
    double knownBefore = api.metric("pingvas_queue_events_total", "outcome=\"known\"");
    awaitStatus(user, id, "succeeded");
    assertThat(api.metric("pingvas_events_unparsed_total")).isGreaterThan(unparsedBefore);
    // its job.succeeded changes the queue, but this replica's dispatcher recorded it itself: not parsed again
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (api.metric("pingvas_queue_events_total", "outcome=\"known\"") <= knownBefore
        && System.nanoTime() < deadline) {
      pause(50);
    }
    assertThat(api.metric("pingvas_queue_events_total", "outcome=\"known\"")).isGreaterThan(knownBefore);
    try (EventStream second = api.stream(user)) {
      second.socket.sendText(new JsonObject().put("type", "resume")
          .put("after", new JsonObject().put(id, lastSeen)).encode(), true).join();
      String job = id;
      second.awaitEvent(e -> job.equals(e.getString("job_id")) && "job.succeeded".equals(e.getString("type")),
          Duration.ofSeconds(10));
      List<Integer> seqs = second.forJob(id).stream().map(e -> e.getInteger("seq")).toList();
      assertThat(seqs).isSorted().doesNotHaveDuplicates().allMatch(s -> s > lastSeen);
      assertThat(seqs.get(0)).as("no gap after the last seen seq").isEqualTo(lastSeen + 1);
      assertThat(second.forJob(id)).allMatch(e -> e.getBoolean("replayed", false));
    }
  }

  @Test
  void aResumeGetsASnapshotOfEachOwnJobNoLongerBufferedAndNothingOfOthers() {
    String owner = harness.createUser("pro");
    String stranger = harness.createUser("pro");
    String mine = api.submit(owner, "sd-1.5", "mine", 2);
    String theirs = api.submit(stranger, "sd-1.5", "theirs", 2);
    awaitStatus(owner, mine, "succeeded");
    awaitStatus(stranger, theirs, "succeeded");
    // jobs this replica never saw an event of (as after a restart): not in its buffer, so snapshots
    String old = java.util.UUID.randomUUID().toString();
    String strangersOld = java.util.UUID.randomUUID().toString();
    for (String[] copy : new String[][] {{old, mine}, {strangersOld, theirs}}) {
      harness.exec("INSERT INTO generation.jobs (id, user_id, tier, status, model, prompt, params, max_attempts, "
          + "attempt, event_seq, finished_at) SELECT '" + copy[0] + "', user_id, tier, 'succeeded', model, prompt, "
          + "params, max_attempts, 1, 7, now() FROM generation.jobs WHERE id = '" + copy[1] + "'");
    }
    JsonObject after = new JsonObject().put(old, 2).put(strangersOld, 0);
    for (int i = 0; i < 400; i++) {
      after.put(java.util.UUID.randomUUID().toString(), 0);
    }
    try (EventStream stream = api.stream(owner)) {
      stream.socket.sendText(new JsonObject().put("type", "resume").put("after", after).encode(), true).join();
      JsonObject snapshot = stream.awaitEvent(e -> "job.snapshot".equals(e.getString("type")), Duration.ofSeconds(10));
      assertThat(snapshot.getString("job_id")).isEqualTo(old);
      assertThat(snapshot.getInteger("seq")).isEqualTo(7);
      assertThat(snapshot.getJsonObject("job").getString("status")).isEqualTo("succeeded");
      stream.socket.sendText("{\"type\":\"ping\"}", true).join();
      stream.awaitEvent(e -> "pong".equals(e.getString("type")), Duration.ofSeconds(5));
      pause(300);
      assertThat(stream.forJob(strangersOld)).as("another user's job").isEmpty();
      assertThat(stream.forJob(old)).as("one snapshot").hasSize(1);
    }
  }

  @Test
  void aStrangerCannotResumeSomeoneElsesJob() {
    String owner = harness.createUser("pro");
    String stranger = harness.createUser("pro");
    String id = api.submit(owner, "sd-1.5", "mine", 2);
    awaitStatus(owner, id, "succeeded");
    try (EventStream stream = api.stream(stranger)) {
      stream.socket.sendText(new JsonObject().put("type", "resume").put("after", new JsonObject().put(id, 0)).encode(),
          true).join();
      stream.socket.sendText("{\"type\":\"ping\"}", true).join();
      stream.awaitEvent(e -> "pong".equals(e.getString("type")), Duration.ofSeconds(5));
      pause(300);
      assertThat(stream.forJob(id)).isEmpty();
    }
  }

  @Test
  void drainsAWorkerThroughTheReplicaThatHoldsIt() {
    ApiClient.Response unknown = api.post("/v1/admin/workers/nobody/drain", admin, "");
    assertThat(unknown.status()).isEqualTo(404);
    harness.startWorker("drain-me", Map.of()).toCompletionStage().toCompletableFuture().join();
    long connectDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (api.get("/v1/admin/overview", admin).json().getJsonArray("workers").stream()
        .noneMatch(w -> "drain-me".equals(((JsonObject) w).getString("id"))) && System.nanoTime() < connectDeadline) {
      pause(50);
    }
    ApiClient.Response drained = api.post("/v1/admin/workers/drain-me/drain", admin, "");
    assertThat(drained.status()).isEqualTo(202);
    assertThat(drained.json().getString("router_id")).isNotBlank();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    boolean gone = false;
    while (!gone && System.nanoTime() < deadline) {
      gone = api.get("/v1/admin/overview", admin).json().getJsonArray("workers").stream()
          .noneMatch(w -> "drain-me".equals(((JsonObject) w).getString("id"))
              && ((JsonObject) w).getBoolean("connected"));
      pause(100);
    }
    assertThat(gone).as("the drained worker left").isTrue();
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
