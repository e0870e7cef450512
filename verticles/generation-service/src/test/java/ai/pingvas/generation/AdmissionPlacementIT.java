package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.ApiClient.EventStream;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A job submitted while nothing waits and a worker is free is stored already dispatched, in its
 * submission's one commit; with the slot taken, the next job queues as usual. Both paths emit the
 * same events in seq order and run exactly once.
 */
class AdmissionPlacementIT {
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    // one worker, one slot, 100 ms per step
    harness = new RouterHarness("placement").startedWithWorker("placement-worker",
        Map.of("PINGVAS_ENGINE_STEP_TIME", "100ms"));
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void placesOnAFreeWorkerAtAdmissionAndQueuesWhenTheSlotIsTaken() throws Exception {
    String key = harness.createUser("pro");
    double placedBefore = api.metric("pingvas_placed_at_admission_total");
    try (EventStream stream = api.stream(key)) {
      String body = "{\"model\": \"sd-1.5\", \"prompt\": \"%s\", \"steps\": 10, \"width\": 64, \"height\": 64}";
      ApiClient.Response first = api.post("/v1/generations", key, body.formatted("first"));
      assertThat(first.status()).isEqualTo(202);
      String firstId = first.json().getString("id");
      assertThat(first.json().getString("status")).isEqualTo("dispatched");
      assertThat(first.json().getValue("queue_position")).isNull();
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + firstId + "' AND attempt = 1"
          + " AND worker_id = 'placement-worker' AND router_id IS NOT NULL AND dispatched_at IS NOT NULL"))
          .isEqualTo(1);

      // the only slot is taken: the second job waits in the queue and is claimed when the first ends
      ApiClient.Response second = api.post("/v1/generations", key, body.formatted("second"));
      assertThat(second.status()).isEqualTo(202);
      String secondId = second.json().getString("id");
      assertThat(second.json().getString("status")).isEqualTo("queued");
      assertThat(second.json().getInteger("queue_position")).isEqualTo(0);

      for (String id : List.of(firstId, secondId)) {
        stream.awaitEvent(e -> id.equals(e.getString("job_id")) && "job.succeeded".equals(e.getString("type")),
            Duration.ofSeconds(20));
      }
      assertThat(api.metric("pingvas_placed_at_admission_total"))
          .isEqualTo(placedBefore + 1);

      List<JsonObject> placed = stream.forJob(firstId).stream().filter(e -> !e.getBoolean("refresh", false)).toList();
      assertThat(placed.get(0).getString("type")).isEqualTo("job.queued");
      assertThat(placed.get(0).getInteger("seq")).isEqualTo(1);
      assertThat(placed.get(0).getInteger("attempt")).isEqualTo(0);
      assertThat(placed.get(1).getString("type")).isEqualTo("job.dispatched");
      assertThat(placed.get(1).getInteger("seq")).isEqualTo(2);
      assertThat(placed.get(1).getInteger("attempt")).isEqualTo(1);
      assertThat(placed.get(1).getString("worker_id")).isEqualTo("placement-worker");
      for (String id : List.of(firstId, secondId)) {
        List<JsonObject> events = stream.forJob(id).stream().filter(e -> !e.getBoolean("refresh", false)).toList();
        assertThat(events.stream().map(e -> e.getInteger("seq")).toList()).isSorted().doesNotHaveDuplicates();
        assertThat(events.stream().filter(e -> "job.succeeded".equals(e.getString("type")))).hasSize(1);
        assertThat(events.stream().filter(e -> "job.dispatched".equals(e.getString("type")))).hasSize(1);
      }
      assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id IN ('" + firstId + "', '" + secondId + "')"
          + " AND status = 'succeeded' AND attempt = 1")).isEqualTo(2);
      // the placed job's two events were committed as one outbox row and published as one record;
      // a stream resuming from its start gets both, job.queued first, from the replica's buffer
      try (EventStream resumed = api.stream(key)) {
        resumed.socket.sendText(new JsonObject().put("type", "resume").put("after", new JsonObject().put(firstId, 0))
            .encode(), true).join();
        resumed.awaitEvent(e -> firstId.equals(e.getString("job_id")) && "job.succeeded".equals(e.getString("type")),
            Duration.ofSeconds(10));
        List<JsonObject> replayed = resumed.forJob(firstId);
        assertThat(replayed).allMatch(e -> e.getBoolean("replayed", false));
        assertThat(replayed.stream().map(e -> e.getInteger("seq")).toList())
            .isEqualTo(placed.stream().map(e -> e.getInteger("seq")).toList());
        assertThat(replayed.get(0).getString("type")).isEqualTo("job.queued");
        assertThat(replayed.get(0).getString("model")).isEqualTo("sd-1.5");
        assertThat(replayed.get(1).getString("type")).isEqualTo("job.dispatched");
        assertThat(replayed.get(1).containsKey("preceded_by")).isFalse();
      }
    }
  }

  @Test
  void concurrentSubmissionsWithOneIdempotencyKeyStoreOneJobAndHoldNoSlot() throws Exception {
    String key = harness.createUser("pro");
    String body = "{\"model\": \"sd-1.5\", \"prompt\": \"once\", \"steps\": 2, \"width\": 64, \"height\": 64}";
    // several at once while the worker is idle: one of them is placed at admission, the others are
    // admitted to the queue; all but one find the key taken at insert and give back what they reserved
    List<CompletableFuture<ApiClient.Response>> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(CompletableFuture.supplyAsync(() -> api.post("/v1/generations", key, body,
          "Idempotency-Key", "placement-once")));
    }
    Set<String> ids = new HashSet<>();
    for (CompletableFuture<ApiClient.Response> call : calls) {
      ApiClient.Response response = call.get(20, TimeUnit.SECONDS);
      assertThat(response.status()).isEqualTo(202);
      ids.add(response.json().getString("id"));
    }
    assertThat(ids).hasSize(1);
    String id = ids.iterator().next();
    awaitStatus(key, id, "succeeded");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE idempotency_key = 'placement-once'")).isEqualTo(1);

    // no slot leaked: the only worker still takes new jobs, and they are placed at admission again
    ApiClient.Response next = api.post("/v1/generations", key, body.replace("once", "next"));
    assertThat(next.json().getString("status")).isEqualTo("dispatched");
    awaitStatus(key, next.json().getString("id"), "succeeded");
  }

  private static void awaitStatus(String key, String id, String status) {
    api.awaitStatus(key, id, status, Duration.ofSeconds(20));
  }
}
