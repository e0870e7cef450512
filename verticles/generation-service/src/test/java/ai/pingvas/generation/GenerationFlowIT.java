package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.ApiClient.EventStream;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** The walking skeleton's path: submit, a real worker renders, the PNG lands in S3, events stream in order. */
class GenerationFlowIT {
  private static RouterHarness harness;
  private static ApiClient api;
  private static String key;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("flow").startedWithWorker("flow-worker-1", Map.of());
    api = new ApiClient(harness.baseUrl());
    key = harness.createUser("pro");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void submittedJobIsRenderedUploadedAndStreamedInSeqOrder() throws Exception {
    try (EventStream stream = api.stream(key)) {
      ApiClient.Response submitted = api.post("/v1/generations", key, """
          {"model": "sd-1.5", "prompt": "a lighthouse at dusk", "width": 320, "height": 192, "steps": 6, "seed": 42}""");
      assertThat(submitted.status()).isEqualTo(202);
      JsonObject job = submitted.json();
      String id = job.getString("id");
      assertThat(submitted.headers().firstValue("Location")).contains("/v1/generations/" + id);
      assertThat(job.getString("status")).isIn("queued", "dispatched", "running");
      assertThat(job.getJsonObject("params").getLong("seed")).isEqualTo(42L);

      JsonObject done = stream.awaitEvent(e -> id.equals(e.getString("job_id"))
          && e.getString("type").equals("job.succeeded"), Duration.ofSeconds(30));
      assertThat(done.getJsonArray("images")).hasSize(1);

      List<JsonObject> events = stream.forJob(id).stream().filter(e -> !e.getBoolean("refresh", false)).toList();
      List<String> types = events.stream().map(e -> e.getString("type")).toList();
      assertThat(types.get(0)).isEqualTo("job.queued");
      assertThat(types).contains("job.dispatched", "job.started", "job.progress");
      assertThat(types.get(types.size() - 1)).isEqualTo("job.succeeded");
      List<Integer> seqs = events.stream().map(e -> e.getInteger("seq")).toList();
      assertThat(seqs).isSorted().doesNotHaveDuplicates();
      events.forEach(e -> assertThat(e.getString("ts")).isNotBlank());

      JsonObject fetched = api.get("/v1/generations/" + id, key).json();
      assertThat(fetched.getString("status")).isEqualTo("succeeded");
      assertThat(fetched.getJsonObject("progress").getDouble("percent")).isEqualTo(100.0);
      JsonObject image = fetched.getJsonArray("images").getJsonObject(0);
      assertThat(image.getString("url")).endsWith("/v1/images/" + image.getString("id") + "/content");

      String objectKey = done.getJsonArray("images").getJsonObject(0).getString("key");
      try (S3Client s3 = harness.s3()) {
        byte[] png = s3.getObjectAsBytes(b -> b.bucket("pingvas-images").key(objectKey)).asByteArray();
        BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(decoded.getWidth()).isEqualTo(320);
        assertThat(decoded.getHeight()).isEqualTo(192);
      }
    }
  }

  /**
   * A migration of a rolling deploy adds a column to {@code jobs} while this replica runs with its
   * statements prepared on every pooled connection: submissions, dispatch, results and reads go on
   * without an error (statements that return {@code *} fail once per connection with "cached plan
   * must not change result type").
   */
  @Test
  void aColumnAddedByAMigrationWhileRunningFailsNoStatement() throws Exception {
    for (int i = 0; i < 6; i++) {
      renderAndRead("before the migration " + i);
    }
    harness.exec("ALTER TABLE generation.jobs ADD COLUMN IF NOT EXISTS added_later text");
    for (int i = 0; i < 6; i++) {
      renderAndRead("after the migration " + i);
    }
  }

  /** Submits a small job, waits for it to succeed, and reads it back singly and in the list. */
  private static void renderAndRead(String prompt) throws InterruptedException {
    ApiClient.Response submitted = api.post("/v1/generations", key, new JsonObject().put("model", "sd-1.5")
        .put("prompt", prompt).put("width", 64).put("height", 64).put("steps", 2).encode());
    assertThat(submitted.status()).as(submitted.body()).isEqualTo(202);
    String id = submitted.json().getString("id");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String status;
    do {
      ApiClient.Response fetched = api.get("/v1/generations/" + id, key);
      assertThat(fetched.status()).as(fetched.body()).isEqualTo(200);
      status = fetched.json().getString("status");
      if (!status.equals("succeeded")) {
        Thread.sleep(20);
      }
    } while (!status.equals("succeeded") && System.nanoTime() < deadline);
    assertThat(status).isEqualTo("succeeded");
    ApiClient.Response list = api.get("/v1/generations?limit=5", key);
    assertThat(list.status()).as(list.body()).isEqualTo(200);
  }
}
