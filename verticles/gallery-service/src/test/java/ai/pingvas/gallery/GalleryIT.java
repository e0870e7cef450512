package ai.pingvas.gallery;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** Images from real jobs: thumbnails made at ingest, deletion of everything, the storage quota per tier. */
class GalleryIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private static GalleryStack stack;

  @BeforeAll
  static void start() {
    stack = new GalleryStack("gallery");
    // Quotas come from user-service's tier table: the free tier gets none here, pro keeps 7 GiB.
    stack.usersEnv.put("PINGVAS_TIERS_FREE_STORAGE_QUOTA_MB", "0");
    stack.usersEnv.put("PINGVAS_TIERS_PRO_STORAGE_QUOTA_MB", "7168");
    // tombstones are kept the default 30 days; the sweep looks for old ones often here
    stack.galleryEnv.put("PINGVAS_IMAGES_TOMBSTONE_SWEEP_EVERY", "200ms");
    // finished jobs are looked at again 5 s after their cleanup instead of 20 min
    stack.galleryEnv.put("PINGVAS_CLEANUP_RECHECK_AFTER", "5s");
    stack.galleryEnv.put("PINGVAS_CLEANUP_SWEEP_EVERY", "200ms");
    stack.start();
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  record Reply(int status, java.net.http.HttpHeaders headers, byte[] body) {
    JsonObject json() {
      return new JsonObject(new String(body));
    }
  }

  @Test
  void theRouterIsToldA422ForAnUploadTooShortToBeAPng() throws Exception {
    // a worker's empty upload: reading its PNG header failed (S3 416) and answered 500, which the
    // router retries for ever; it is an invalid output
    String user = java.util.UUID.randomUUID().toString();
    String job = java.util.UUID.randomUUID().toString();
    String key = "images/" + user + "/" + job + "/1-0.png";
    try (var s3 = stack.s3()) {
      upload(s3, key, new byte[0]);
    }
    JsonObject body = new JsonObject().put("job_id", job).put("user_id", user).put("images", new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("index", 0).put("key", key).put("width", 64).put("height", 64).put("size_bytes", 0)));
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(stack.galleryUrl() + "/internal/v1/images/verify"))
        .header("Content-Type", "application/json").header("X-Internal-Token", GalleryStack.INTERNAL_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("0 bytes, not a PNG");
  }

  @Test
  void theUploadsOfAttemptsThatDidNotSucceedAreDeletedOnceTheJobEnds() throws Exception {
    String user = java.util.UUID.randomUUID().toString();
    String failedJob = java.util.UUID.randomUUID().toString();
    String retriedJob = java.util.UUID.randomUUID().toString();
    String failed = "images/" + user + "/" + failedJob + "/";
    String retried = "images/" + user + "/" + retriedJob + "/";
    try (var s3 = stack.s3()) {
      for (String key : List.of(failed + "1-0.png", failed + "2-0.png", failed + "3-0.png", retried + "1-0.png",
          retried + "2-0.png")) {
        upload(s3, key);
      }
      // as the router publishes them: the first job failed on its second attempt (a third ran after
      // an operator re-ran it), the second succeeded on its second attempt
      publish(failedJob, new JsonObject().put("type", "job.failed").put("job_id", failedJob).put("user_id", user)
          .put("seq", 9).put("status", "failed").put("attempt", 2)
          .put("error", new JsonObject().put("code", "execution_timeout").put("message", "ran too long")));
      publish(retriedJob, succeeded(user, retriedJob, java.util.UUID.randomUUID().toString(), retried + "2-0.png")
          .put("attempt", 2));
      awaitKeys(s3, "images/" + user + "/", List.of(failed + "3-0.png", retried + "2-0.png"),
          "only the uploads of the last failed and the succeeded attempt to remain");
    }
  }

  @Test
  void anUploadThatComesAfterItsJobEndedIsDeletedWhenTheJobIsLookedAtAgain() throws Exception {
    String user = java.util.UUID.randomUUID().toString();
    String job = java.util.UUID.randomUUID().toString();
    String prefix = "images/" + user + "/" + job + "/";
    try (var s3 = stack.s3()) {
      upload(s3, prefix + "1-0.png");
      publish(job, new JsonObject().put("type", "job.canceled").put("job_id", job).put("user_id", user).put("seq", 5)
          .put("status", "canceled").put("attempt", 1));
      awaitKeys(s3, prefix, List.of(), "the canceled attempt's upload to be deleted");
      awaitCount("SELECT count(*) FROM gallery.cleanup_rechecks WHERE job_id = '" + job + "'", 1,
          "the job's recheck to be scheduled");
      // the canceled attempt's worker uploads once more with the URL it still holds; an operator's
      // re-run of the job (attempt 2) uploads too
      upload(s3, prefix + "1-1.png");
      upload(s3, prefix + "2-0.png");
      awaitKeys(s3, prefix, List.of(prefix + "2-0.png"), "the late upload to be deleted by the recheck");
      awaitCount("SELECT count(*) FROM gallery.cleanup_rechecks WHERE job_id = '" + job + "'", 0,
          "the recheck to be forgotten once done");
    }
  }

  /**
   * The router reports a job succeeded, with its images' URLs, once the gallery verified the uploads
   * and before the job's event reaches the ingest: the verification records the images, so the URLs
   * work at once (they were 404 until the ingest caught up) and the gallery lists them. The event
   * then adds the thumbnail; an attempt that ends without succeeding loses its row with its upload.
   */
  @Test
  void aVerifiedImageIsServedAndListedBeforeItsJobsEvent() throws Exception {
    GalleryStack.User user = stack.newUser("pro");
    String job = java.util.UUID.randomUUID().toString();
    byte[] png = png(96, 64);
    String objectKey = verified(user, job, 1, png, 96, 64);
    String id = ai.pingvas.platform.ids.Uuids.imageId(objectKey);

    // no job.succeeded event was published: the URL the router hands out is served already
    Reply redirect = call("GET", stack.galleryUrl() + "/v1/images/" + id + "/content", user.key(), null);
    assertThat(redirect.status()).as(new String(redirect.body())).isEqualTo(302);
    Reply bytes = call("GET", redirect.headers().firstValue("Location").orElseThrow(), null, null);
    assertThat(bytes.body()).isEqualTo(png);
    JsonObject meta = call("GET", stack.galleryUrl() + "/v1/images/" + id, user.key(), null).json();
    assertThat(meta.getString("job_id")).isEqualTo(job);
    assertThat(meta.getString("prompt")).isEqualTo("a verified heron");
    assertThat(meta.getLong("seed")).isEqualTo(42L);
    assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + id + "/content", stack.createUser("pro"), null)
        .status()).as("another user's image").isEqualTo(404);
    assertThat(listedIds(user.key())).as("listed before the event").contains(id);
    assertThat(meta.getString("thumbnail_url")).as("made by the ingest").isNull();

    publish(job, succeeded(user.id(), job, id, objectKey));
    awaitThumbnail(job);
    JsonObject ingested = call("GET", stack.galleryUrl() + "/v1/images/" + id, user.key(), null).json();
    assertThat(ingested.getString("prompt")).as("the verified row is kept").isEqualTo("a verified heron");
    assertThat(ingested.getString("thumbnail_url")).isNotNull();

    // an attempt verified, then canceled before its result was recorded: row and upload go
    String canceledJob = java.util.UUID.randomUUID().toString();
    String canceledKey = verified(user, canceledJob, 1, png, 96, 64);
    try (var s3 = stack.s3()) {
      String canceledId = ai.pingvas.platform.ids.Uuids.imageId(canceledKey);
      assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + canceledId, user.key(), null).status())
          .isEqualTo(200);
      publish(canceledJob, new JsonObject().put("type", "job.canceled").put("job_id", canceledJob)
          .put("user_id", user.id()).put("seq", 4).put("status", "canceled").put("attempt", 1));
      awaitKeys(s3, "images/" + user.id() + "/" + canceledJob + "/", List.of(), "the canceled upload to go");
      awaitCount("SELECT count(*) FROM gallery.images WHERE job_id = '" + canceledJob + "'", 0,
          "the canceled attempt's verified row to go");
      assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + canceledId + "/content", user.key(), null)
          .status()).isEqualTo(404);
    }
  }

  /**
   * A relay that crashed after publishing publishes again: the copies of a job.succeeded often reach
   * the ingest in one batch, for an image the verification recorded already. One row, one thumbnail.
   */
  @Test
  void aJobSucceededPublishedTwiceInOneBatchIsIngestedOnce() throws Exception {
    GalleryStack.User user = stack.newUser("pro");
    String job = java.util.UUID.randomUUID().toString();
    String objectKey = verified(user, job, 1, png(32, 32), 32, 32);
    String id = ai.pingvas.platform.ids.Uuids.imageId(objectKey);
    JsonObject event = succeeded(user.id(), job, id, objectKey);
    publish(job, event, event, event);
    awaitThumbnail(job);
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job + "'")).isEqualTo(1);
    assertThat(listedIds(user.key())).containsOnlyOnce(id);
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job + "'")).isEqualTo(1);
  }

  /**
   * A re-published event of a retried job (attempt 2) reaches the ingest twice in one batch: one
   * cleanup for the job, one recheck scheduled. Two made the recheck's upsert touch its row twice,
   * which failed the batch on every replay and stopped the ingest.
   */
  @Test
  void aRetriedJobsEventPublishedTwiceInOneBatchSchedulesOneRecheck() throws Exception {
    GalleryStack.User user = stack.newUser("pro");
    String job = java.util.UUID.randomUUID().toString();
    byte[] png = png(32, 32);
    String first = verified(user, job, 1, png, 32, 32);
    String second = verified(user, job, 2, png, 32, 32);
    JsonObject event = succeeded(user.id(), job, ai.pingvas.platform.ids.Uuids.imageId(second), second)
        .put("attempt", 2);
    publish(job, event, event);
    awaitCount("SELECT count(*) FROM gallery.cleanup_rechecks WHERE job_id = '" + job + "'", 1,
        "the job's recheck to be scheduled");
    awaitThumbnail(job);
    try (var s3 = stack.s3()) {
      assertThat(keys(s3, "images/" + user.id() + "/" + job + "/")).doesNotContain(first);
    }
  }

  /**
   * Attempt 1 was verified but its result fenced off (the worker was presumed dead meanwhile);
   * attempt 2 succeeded. Attempt 2's event keeps its own image and forgets attempt 1's with its
   * upload; an operator's re-run (attempt 3) verified before that event arrives is left alone.
   */
  @Test
  void theSucceededAttemptsEventForgetsEarlierAttemptsVerifiedImagesOnly() throws Exception {
    GalleryStack.User user = stack.newUser("pro");
    String job = java.util.UUID.randomUUID().toString();
    String prefix = "images/" + user.id() + "/" + job + "/";
    byte[] png = png(32, 32);
    for (int attempt = 1; attempt <= 3; attempt++) {
      verified(user, job, attempt, png, 32, 32);
    }
    try (var s3 = stack.s3()) {
      assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job
          + "'")).isEqualTo(3);
      String second = ai.pingvas.platform.ids.Uuids.imageId(prefix + "2-0.png");
      publish(job, succeeded(user.id(), job, second, prefix + "2-0.png").put("attempt", 2));
      awaitCount("SELECT count(*) FROM gallery.images WHERE job_id = '" + job + "' AND attempt = 1", 0,
          "attempt 1's verified image to be forgotten");
      awaitKeys(s3, prefix, List.of(prefix + "2-0.png", prefix + "2-0.thumb.jpg", prefix + "3-0.png"),
          "attempt 1's upload to go, attempts 2 and 3 to stay");
    }
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job
        + "' AND attempt = 2 AND thumbnail_key IS NOT NULL")).isEqualTo(1);
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job
        + "' AND attempt = 3")).as("a later attempt's image is left alone").isEqualTo(1);
  }

  /**
   * The router's client takes a request the gallery refuses as malformed (400) as final, like an
   * invalid image (422): retrying the same request held the worker's result until the execution
   * timeout, on every attempt.
   */
  @Test
  void theRoutersClientTakesARefusedVerificationAsFinal() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      var client = new ai.pingvas.generation.dispatch.GalleryClient(vertx, stack.galleryUrl(),
          GalleryStack.INTERNAL_TOKEN, true, "http://localhost");
      String user = java.util.UUID.randomUUID().toString();
      var image = new ai.pingvas.protocol.ImageOutput(0, "images/" + user + "/x/1-0.png", 8, 8, 1, 100, "00");
      Throwable malformed = client.verify("not-a-job-id", user, 1, "p", "sd-1.5", List.of(image))
          .toCompletionStage().toCompletableFuture().handle((ok, err) -> err).get(30, TimeUnit.SECONDS);
      assertThat(malformed).isInstanceOf(ai.pingvas.generation.dispatch.GalleryClient.InvalidOutput.class)
          .hasMessageContaining("must be UUIDs");
      String job = java.util.UUID.randomUUID().toString();
      var missing = new ai.pingvas.protocol.ImageOutput(0, "images/" + user + "/" + job + "/1-0.png", 8, 8, 1, 100,
          "00");
      Throwable invalid = client.verify(job, user, 1, "p", "sd-1.5", List.of(missing))
          .toCompletionStage().toCompletableFuture().handle((ok, err) -> err).get(30, TimeUnit.SECONDS);
      assertThat(invalid).isInstanceOf(ai.pingvas.generation.dispatch.GalleryClient.InvalidOutput.class)
          .hasMessageContaining("was not uploaded");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aVerificationNamingAnImageIdThatIsNotItsKeysIsRefused() throws Exception {
    String user = java.util.UUID.randomUUID().toString();
    String job = java.util.UUID.randomUUID().toString();
    String key = "images/" + user + "/" + job + "/1-0.png";
    JsonObject body = verification(job, user, key, png(8, 8), 8, 8);
    body.getJsonArray("images").getJsonObject(0).put("id", java.util.UUID.randomUUID().toString());
    HttpResponse<String> r = postVerify(body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("not the id of its key");
    body = verification(job, user, key, png(8, 8), 8, 8);
    body.getJsonArray("images").getJsonObject(0).remove("sha256");
    r = postVerify(body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("has no sha256");
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.images WHERE job_id = '" + job + "'")).isZero();
  }

  /** Uploads attempt {@code attempt}'s image of the job and has the gallery verify it (200); its object key. */
  private static String verified(GalleryStack.User user, String job, int attempt, byte[] png, int width, int height)
      throws Exception {
    String key = "images/" + user.id() + "/" + job + "/" + attempt + "-0.png";
    try (var s3 = stack.s3()) {
      upload(s3, key, png);
    }
    HttpResponse<String> r = postVerify(verification(job, user.id(), key, png, width, height).put("attempt", attempt));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return key;
  }

  /** Waits up to 30 s for the ingest to have made the thumbnail of the job's image. */
  private static void awaitThumbnail(String job) throws Exception {
    awaitCount("SELECT count(*) FROM gallery.images WHERE job_id = '" + job + "' AND thumbnail_key IS NOT NULL", 1,
        "the ingest to make the thumbnail of job " + job + "'s image");
  }

  /** A verification request as the router sends it. */
  private static JsonObject verification(String job, String user, String key, byte[] png, int width, int height)
      throws Exception {
    String sha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(png));
    return new JsonObject().put("job_id", job).put("user_id", user).put("attempt", 1)
        .put("prompt", "a verified heron").put("model", "sd-1.5").put("images", new io.vertx.core.json.JsonArray()
            .add(new JsonObject().put("index", 0).put("key", key).put("width", width).put("height", height)
                .put("seed", 42).put("size_bytes", png.length).put("sha256", sha256)
                .put("id", ai.pingvas.platform.ids.Uuids.imageId(key))));
  }

  private static HttpResponse<String> postVerify(JsonObject body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(stack.galleryUrl() + "/internal/v1/images/verify"))
        .header("Content-Type", "application/json").header("X-Internal-Token", GalleryStack.INTERNAL_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> listedIds(String key) throws Exception {
    return call("GET", stack.galleryUrl() + "/v1/images?limit=100", key, null).json().getJsonArray("items").stream()
        .map(item -> ((JsonObject) item).getString("id")).toList();
  }

  private static byte[] png(int width, int height) throws Exception {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    image.setRGB(width / 2, height / 2, 0x3366cc);
    var out = new java.io.ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static void awaitCount(String sql, long expected, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (stack.countGallery(sql) != expected) {
      assertThat(System.nanoTime()).as("waiting for %s", what).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static void upload(S3Client s3, String key) {
    upload(s3, key, new byte[64]);
  }

  private static void upload(S3Client s3, String key, byte[] bytes) {
    s3.putObject(b -> b.bucket(ai.pingvas.embedded.SharedInfra.BUCKET).key(key).contentType("image/png"),
        software.amazon.awssdk.core.sync.RequestBody.fromBytes(bytes));
  }

  /** Waits up to 30 s for exactly these keys under the prefix. */
  private static void awaitKeys(S3Client s3, String prefix, List<String> expected, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!new java.util.HashSet<>(keys(s3, prefix)).equals(new java.util.HashSet<>(expected))) {
      assertThat(System.nanoTime()).as("waiting for %s; left: %s", what, keys(s3, prefix)).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static List<String> keys(S3Client s3, String prefix) {
    return s3.listObjectsV2(b -> b.bucket(ai.pingvas.embedded.SharedInfra.BUCKET).prefix(prefix)).contents()
        .stream().map(o -> o.key()).toList();
  }

  /** The events in order, sent by one producer (so they usually reach the ingest in one batch). */
  private static void publish(String key, JsonObject... events) throws Exception {
    var config = new java.util.Properties();
    config.put("bootstrap.servers", stack.infra.kafka().bootstrap());
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(config,
        new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.StringSerializer())) {
      List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>();
      for (JsonObject event : events) {
        sent.add(producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
            stack.galleryEnv.get("PINGVAS_EVENTS_TOPIC"), key, event.encode())));
      }
      for (java.util.concurrent.Future<?> f : sent) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
  }

  static Reply call(String method, String url, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    return new Reply(r.statusCode(), r.headers(), r.body());
  }

  /** Runs a job for the user and returns its first image once the gallery has its thumbnail too. */
  private static JsonObject generatedImage(String key, int width, int height) throws Exception {
    Reply submitted = call("POST", stack.routerUrl() + "/v1/generations", key, new JsonObject()
        .put("model", "sd-1.5").put("prompt", "a red kite over dunes").put("width", width).put("height", height)
        .put("steps", 3).encode());
    assertThat(submitted.status()).isEqualTo(202);
    String jobId = submitted.json().getString("id");
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (System.nanoTime() < deadline) {
      for (Object item : call("GET", stack.galleryUrl() + "/v1/images", key, null).json().getJsonArray("items")) {
        JsonObject image = (JsonObject) item;
        if (jobId.equals(image.getString("job_id")) && image.getString("thumbnail_url") != null) {
          return image;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the gallery never listed an image of job " + jobId);
  }

  private static String objectKey(JsonObject image) {
    String url = image.getString("url");
    String path = URI.create(url).getPath();
    return path.substring(path.indexOf("/images/") + 1);
  }

  @Test
  void ingestMakesAThumbnailBesideTheImage() throws Exception {
    String key = stack.createUser("pro");
    JsonObject image = generatedImage(key, 640, 320);
    assertThat(image.getString("thumbnail_url")).isNotNull();

    Reply redirect = call("GET", stack.galleryUrl() + "/v1/images/" + image.getString("id") + "/thumbnail", key, null);
    assertThat(redirect.status()).isEqualTo(302);
    Reply thumb = call("GET", redirect.headers().firstValue("Location").orElseThrow(), null, null);
    assertThat(thumb.status()).isEqualTo(200);
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(thumb.body()));
    assertThat(decoded.getWidth()).isEqualTo(256);
    assertThat(decoded.getHeight()).isEqualTo(128);
    assertThat(thumb.body()[0] & 0xff).isEqualTo(0xff);
    assertThat(thumb.body()[1] & 0xff).isEqualTo(0xd8);

    String objectKey = objectKey(image);
    try (S3Client s3 = stack.s3()) {
      String thumbKey = objectKey.substring(0, objectKey.lastIndexOf('.')) + ".thumb.jpg";
      assertThat(s3.headObject(b -> b.bucket("pingvas-images").key(thumbKey)).contentType()).isEqualTo("image/jpeg");
    }
    String other = stack.createUser("pro");
    assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + image.getString("id") + "/thumbnail", other, null)
        .status()).isEqualTo(404);
  }

  /**
   * A migration of a rolling deploy adds a column to {@code images} while the gallery runs with its
   * reads prepared: they go on answering (a statement returning {@code *} fails once per pooled
   * connection with "cached plan must not change result type").
   */
  @Test
  void aColumnAddedByAMigrationWhileRunningFailsNoRead() throws Exception {
    String key = stack.createUser("pro");
    String id = generatedImage(key, 64, 64).getString("id");
    for (int i = 0; i < 20; i++) {
      assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + id, key, null).status()).isEqualTo(200);
      assertThat(call("GET", stack.galleryUrl() + "/v1/images?limit=5", key, null).status()).isEqualTo(200);
    }
    stack.execGallery("ALTER TABLE gallery.images ADD COLUMN IF NOT EXISTS added_later text");
    for (int i = 0; i < 20; i++) {
      Reply one = call("GET", stack.galleryUrl() + "/v1/images/" + id, key, null);
      assertThat(one.status()).as(new String(one.body())).isEqualTo(200);
      assertThat(one.json().getString("id")).isEqualTo(id);
      Reply page = call("GET", stack.galleryUrl() + "/v1/images?limit=5", key, null);
      assertThat(page.status()).as(new String(page.body())).isEqualTo(200);
    }
  }

  @Test
  void deleteRemovesTheObjectTheThumbnailAndTheRow() throws Exception {
    String key = stack.createUser("pro");
    JsonObject image = generatedImage(key, 128, 128);
    String id = image.getString("id");
    String objectKey = objectKey(image);
    String thumbKey = objectKey.substring(0, objectKey.lastIndexOf('.')) + ".thumb.jpg";
    long before = call("GET", stack.galleryUrl() + "/v1/images/usage", key, null).json().getLong("used_bytes");
    assertThat(before).isGreaterThan(image.getLong("size_bytes"));

    String other = stack.createUser("pro");
    assertThat(call("DELETE", stack.galleryUrl() + "/v1/images/" + id, other, null).status()).isEqualTo(404);
    assertThat(call("DELETE", stack.galleryUrl() + "/v1/images/" + id, key, null).status()).isEqualTo(204);

    assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + id, key, null).status()).isEqualTo(404);
    assertThat(call("DELETE", stack.galleryUrl() + "/v1/images/" + id, key, null).status()).isEqualTo(404);
    try (S3Client s3 = stack.s3()) {
      for (String gone : new String[] {objectKey, thumbKey}) {
        try {
          s3.headObject(b -> b.bucket("pingvas-images").key(gone));
          throw new AssertionError(gone + " is still in storage");
        } catch (NoSuchKeyException expected) {
          // deleted
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
          assertThat(e.statusCode()).isEqualTo(404);
        }
      }
    }
    assertThat(call("GET", stack.galleryUrl() + "/v1/images/usage", key, null).json().getLong("used_bytes"))
        .isZero();

    // the ingest replays the job's event (at-least-once): the deleted image does not come back. A
    // second job's event behind it on the same partition (same record key) tells when it was read.
    String user = objectKey.split("/")[1];
    String jobId = image.getString("job_id");
    String markerJob = java.util.UUID.randomUUID().toString();
    String marker = java.util.UUID.randomUUID().toString();
    publish(jobId, succeeded(user, jobId, id, objectKey));
    publish(jobId, succeeded(user, markerJob, marker, "images/" + user + "/" + markerJob + "/1-0.png"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (call("GET", stack.galleryUrl() + "/v1/images/" + marker, key, null).status() != 200) {
      assertThat(System.nanoTime()).as("the marker image was never ingested").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(call("GET", stack.galleryUrl() + "/v1/images/" + id, key, null).status()).isEqualTo(404);
  }

  @Test
  void aDeletedImagesTombstoneIsForgottenOnceNoReplayCanComeAndNotBefore() throws Exception {
    String old = java.util.UUID.randomUUID().toString();
    String recent = java.util.UUID.randomUUID().toString();
    stack.execGallery("INSERT INTO gallery.deleted_images (id, deleted_at) VALUES ('" + old
        + "', now() - interval '31 days'), ('" + recent + "', now() - interval '29 days')");
    awaitCount("SELECT count(*) FROM gallery.deleted_images WHERE id = '" + old + "'", 0,
        "the 31-day-old tombstone to be forgotten");
    assertThat(stack.countGallery("SELECT count(*) FROM gallery.deleted_images WHERE id = '" + recent + "'"))
        .as("a tombstone younger than images.tombstone-ttl (30d) stays").isEqualTo(1);
  }

  /** A job.succeeded event with one image, as the router publishes it. */
  private static JsonObject succeeded(String user, String job, String imageId, String objectKey) {
    return new JsonObject().put("type", "job.succeeded").put("job_id", job).put("user_id", user).put("seq", 3)
        .put("status", "succeeded").put("attempt", 1).put("model", "sd-1.5").put("prompt", "replayed")
        .put("images", new io.vertx.core.json.JsonArray().add(new JsonObject().put("id", imageId).put("index", 0)
            .put("key", objectKey).put("seed", 1).put("width", 128).put("height", 128).put("size_bytes", 64)
            .put("sha256", "00")));
  }

  @Test
  void usersAtTheirTiersQuotaCannotStartNewGenerations() throws Exception {
    String free = stack.createUser("free");
    JsonObject usage = call("GET", stack.galleryUrl() + "/v1/images/usage", free, null).json();
    assertThat(usage.getString("tier")).isEqualTo("free");
    assertThat(usage.getLong("quota_bytes")).isZero();
    assertThat(usage.getBoolean("over_quota")).isTrue();

    Reply refused = call("POST", stack.routerUrl() + "/v1/generations", free,
        "{\"model\":\"sd-1.5\",\"prompt\":\"a moth\",\"width\":64,\"height\":64,\"steps\":1}");
    assertThat(refused.status()).isEqualTo(422);
    assertThat(refused.json().getString("code")).isEqualTo("storage_quota_exceeded");

    String pro = stack.createUser("pro");
    JsonObject proUsage = call("GET", stack.galleryUrl() + "/v1/images/usage", pro, null).json();
    assertThat(proUsage.getLong("quota_bytes")).isEqualTo(7168L * 1024 * 1024);
    assertThat(proUsage.getBoolean("over_quota")).isFalse();
  }
}
