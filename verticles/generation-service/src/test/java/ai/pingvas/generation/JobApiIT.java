package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job API without workers (jobs stay queued): idempotency, cancel, isolation between users,
 * pagination, and the schema created from an empty database.
 */
class JobApiIT {
  private static final String BODY = "{\"model\": \"sd-1.5\", \"prompt\": \"a red fox\", \"seed\": 7}";
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("jobapi");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void migratesAnEmptyDatabase() {
    assertThat(harness.count("SELECT count(*) FROM generation.flyway_schema_history WHERE success")).isPositive();
    assertThat(harness.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'generation' "
        + "AND table_name IN ('jobs', 'outbox', 'routers')")).isEqualTo(3);
    // accounts live in user-service now
    assertThat(harness.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'generation' "
        + "AND table_name IN ('api_keys', 'users')")).isZero();
  }

  @Test
  void analyzeSkipsThePayloadColumnsNoQueryFiltersOn() {
    String key = harness.createUser("pro");
    for (int i = 0; i < 3; i++) {
      assertThat(api.post("/v1/generations", key, BODY).status()).isEqualTo(202);
    }
    harness.exec("ANALYZE generation.jobs");
    String columns = "SELECT count(*) FROM pg_stats WHERE schemaname = 'generation' AND tablename = 'jobs' "
        + "AND attname IN ";
    // the planner's columns keep their statistics ...
    assertThat(harness.count(columns + "('user_id', 'status', 'model', 'created_at')")).isEqualTo(4);
    // ... and ANALYZE no longer samples prompts, parameters, images or error text
    assertThat(harness.count(columns + "('prompt', 'params', 'images', 'error_message', 'request_hash')")).isZero();
  }

  @Test
  void sameIdempotencyKeyAndBodyReturnsTheSameJob() {
    String key = harness.createUser("pro");
    ApiClient.Response first = api.post("/v1/generations", key, BODY, "Idempotency-Key", "order-1");
    assertThat(first.status()).isEqualTo(202);
    // the same body with keys in another order and other spacing is the same request
    ApiClient.Response again = api.post("/v1/generations", key,
        "{\"seed\":7,\"prompt\":\"a red fox\",\"model\":\"sd-1.5\"}", "Idempotency-Key", "order-1");
    assertThat(again.status()).isEqualTo(202);
    assertThat(again.json().getString("id")).isEqualTo(first.json().getString("id"));
    assertThat(again.headers().firstValue("Idempotent-Replayed")).contains("true");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE idempotency_key = 'order-1'")).isEqualTo(1);
  }

  @Test
  void theAcceptedJobIsTheJobAsStored() {
    String key = harness.createUser("pro");
    String body = "{\"model\": \"sd-1.5\", \"prompt\": \"a grey heron, ünïcode\", \"negative_prompt\": \"blur\","
        + " \"width\": 640, \"height\": 384, \"steps\": 12, \"cfg_scale\": 5.5, \"seed\": 4294967295,"
        + " \"scheduler\": \"dpmpp_2m\", \"count\": 2, \"priority\": 3}";
    ApiClient.Response accepted = api.post("/v1/generations", key, body);
    assertThat(accepted.status()).isEqualTo(202);
    JsonObject answered = accepted.json();
    JsonObject stored = api.get("/v1/generations/" + answered.getString("id"), key).json();
    // the 202 is built from what the router sent and the columns Postgres set, not read back
    for (JsonObject view : List.of(answered, stored)) {
      view.remove("queue_position");
      view.remove("eta_seconds");
    }
    assertThat(answered).isEqualTo(stored);
    assertThat(stored.getString("created_at")).isNotNull();
    assertThat(stored.getJsonObject("params").getInteger("count")).isEqualTo(2);
  }

  @Test
  void sameIdempotencyKeyWithAnotherBodyIs409() {
    String key = harness.createUser("pro");
    assertThat(api.post("/v1/generations", key, BODY, "Idempotency-Key", "order-2").status()).isEqualTo(202);
    ApiClient.Response conflict = api.post("/v1/generations", key,
        "{\"model\": \"sd-1.5\", \"prompt\": \"a blue fox\"}", "Idempotency-Key", "order-2");
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(conflict.json().getString("code")).isEqualTo("idempotency_key_reused");
  }

  @Test
  void idempotencyKeysBelongToOneUser() {
    String alice = harness.createUser("pro");
    String bob = harness.createUser("pro");
    String a = api.post("/v1/generations", alice, BODY, "Idempotency-Key", "shared").json().getString("id");
    String b = api.post("/v1/generations", bob, BODY, "Idempotency-Key", "shared").json().getString("id");
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void cancelsAQueuedJob() {
    String key = harness.createUser("pro");
    String id = api.post("/v1/generations", key, BODY).json().getString("id");
    JsonObject queued = api.get("/v1/generations/" + id, key).json();
    assertThat(queued.getString("status")).isEqualTo("queued");
    assertThat(queued.getInteger("queue_position")).isNotNull().isGreaterThanOrEqualTo(0);

    ApiClient.Response canceled = api.post("/v1/generations/" + id + "/cancel", key, "");
    assertThat(canceled.status()).isEqualTo(200);
    assertThat(canceled.json().getString("status")).isEqualTo("canceled");
    assertThat(canceled.json().getString("finished_at")).isNotNull();
    assertThat(api.get("/v1/generations/" + id, key).json().getString("status")).isEqualTo("canceled");

    ApiClient.Response twice = api.post("/v1/generations/" + id + "/cancel", key, "");
    assertThat(twice.status()).isEqualTo(409);
    assertThat(twice.json().getString("code")).isEqualTo("already_finished");
  }

  @Test
  void usersNeverSeeEachOthersJobs() {
    String alice = harness.createUser("pro");
    String bob = harness.createUser("pro");
    String id = api.post("/v1/generations", alice, BODY).json().getString("id");

    ApiClient.Response peek = api.get("/v1/generations/" + id, bob);
    assertThat(peek.status()).isEqualTo(404);
    assertThat(peek.json().getString("code")).isEqualTo("not_found");
    assertThat(api.post("/v1/generations/" + id + "/cancel", bob, "").status()).isEqualTo(404);
    assertThat(api.get("/v1/generations", bob).json().getJsonArray("items"))
        .noneMatch(item -> id.equals(((JsonObject) item).getString("id")));
    assertThat(api.get("/v1/generations/" + id, alice).json().getString("status")).isEqualTo("queued");
  }

  @Test
  void listsNewestFirstWithCursorPaginationAndStatusFilter() {
    String key = harness.createUser("pro");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(api.post("/v1/generations", key, BODY).json().getString("id"));
    }
    // canceled jobs between queued ones: the full listing merges one ordered scan per status, and its
    // pages must interleave them by age across page boundaries
    api.post("/v1/generations/" + created.get(0) + "/cancel", key, "");
    api.post("/v1/generations/" + created.get(3) + "/cancel", key, "");

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject page = api.get("/v1/generations?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), key).json();
      JsonArray items = page.getJsonArray("items");
      assertThat(items.size()).isLessThanOrEqualTo(2);
      items.forEach(item -> seen.add(((JsonObject) item).getString("id")));
      cursor = page.getString("next_cursor");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    List<String> newestFirst = new ArrayList<>(created);
    java.util.Collections.reverse(newestFirst);
    assertThat(seen).containsExactlyElementsOf(newestFirst);

    Set<String> canceled = new HashSet<>();
    api.get("/v1/generations?status=canceled", key).json().getJsonArray("items")
        .forEach(item -> canceled.add(((JsonObject) item).getString("id")));
    assertThat(canceled).containsExactlyInAnyOrder(created.get(0), created.get(3));
    List<String> queued = new ArrayList<>();
    api.get("/v1/generations?status=queued&limit=2", key).json().getJsonArray("items")
        .forEach(item -> queued.add(((JsonObject) item).getString("id")));
    assertThat(queued).containsExactly(created.get(4), created.get(2));
  }

  @Test
  void reportsQueuePositionsInJobsAndEventsAndKeepsThemCurrent() {
    String bob = harness.createUser("studio");
    try (ApiClient.EventStream stream = api.stream(bob)) {
      // bob's own earlier jobs run before his last one (same priority, older first)
      List<String> earlier = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        earlier.add(api.post("/v1/generations", bob, BODY).json().getString("id"));
      }
      JsonObject bobs = api.post("/v1/generations", bob, BODY).json();
      String bobJob = bobs.getString("id");
      Integer position = bobs.getInteger("queue_position");
      assertThat(position).isNotNull().isGreaterThanOrEqualTo(3);
      assertThat(bobs.getValue("eta_seconds")).as("no workers: no honest ETA").isNull();
      JsonObject queued = stream.awaitEvent(e -> bobJob.equals(e.getString("job_id"))
          && "job.queued".equals(e.getString("type")) && e.getInteger("queue_position") != null,
          java.time.Duration.ofSeconds(10));
      assertThat(queued.getInteger("seq")).isEqualTo(1);
      assertThat(api.get("/v1/generations/" + bobJob, bob).json().getInteger("queue_position")).isEqualTo(position);

      // jobs ahead of it leave the queue: its position falls and a refresh event says so
      for (String id : earlier) {
        api.post("/v1/generations/" + id + "/cancel", bob, "");
      }
      int now = api.get("/v1/generations/" + bobJob, bob).json().getInteger("queue_position");
      assertThat(now).isLessThan(position);
      stream.awaitEvent(e -> bobJob.equals(e.getString("job_id")) && e.getBoolean("refresh", false)
          && e.getInteger("queue_position") == now, java.time.Duration.ofSeconds(10));
      api.post("/v1/generations/" + bobJob + "/cancel", bob, "");
    }
  }

  @Test
  void servesItsOpenApiContract() {
    ApiClient.Response contract = api.get("/openapi.yaml", null);
    assertThat(contract.status()).isEqualTo(200);
    assertThat(contract.body()).contains("openapi: 3.1.0").contains("/v1/generations/{id}/cancel");
  }
}
