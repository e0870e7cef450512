package ai.pingvas.gallery.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Which uploads a job's terminal event leaves for deletion. */
class UploadCleanupTest {
  private final String user = UUID.randomUUID().toString();
  private final String job = UUID.randomUUID().toString();
  private final String prefix = "images/" + user + "/" + job + "/";

  private JsonObject event(String type, Object attempt) {
    return new JsonObject().put("type", type).put("job_id", job).put("user_id", user).put("attempt", attempt);
  }

  @Test
  void aFailedOrCanceledJobLosesTheUploadsOfItsAttemptsButNeverOfLaterOnes() {
    for (String type : List.of("job.failed", "job.canceled")) {
      UploadCleanup cleanup = UploadCleanup.of(event(type, 2), List.of());
      assertThat(cleanup.prefix()).isEqualTo(prefix);
      assertThat(cleanup.removes(prefix + "1-0.png")).isTrue();
      assertThat(cleanup.removes(prefix + "2-3.png")).isTrue();
      assertThat(cleanup.removes(prefix + "2-0.thumb.jpg")).isTrue();
      // attempt 3 ran after an operator re-ran the job: its event may be replayed after it
      assertThat(cleanup.removes(prefix + "3-0.png")).isFalse();
      assertThat(cleanup.removes(prefix + "notes.txt")).isFalse();
      assertThat(cleanup.removes("images/" + user + "/" + UUID.randomUUID() + "/1-0.png")).isFalse();
    }
  }

  @Test
  void aJobThatSucceededOnALaterAttemptKeepsOnlyItsImagesAndThumbnails() {
    String key = prefix + "3-0.png";
    JsonObject succeeded = event("job.succeeded", 3).put("images", new JsonArray().add(new JsonObject()
        .put("id", UUID.randomUUID().toString()).put("index", 0).put("key", key).put("seed", 7).put("width", 64)
        .put("height", 64).put("size_bytes", 100).put("sha256", "00")));
    List<Image> images = Image.ofSucceeded(succeeded);
    UploadCleanup cleanup = UploadCleanup.of(succeeded, images);
    assertThat(cleanup.removes(key)).isFalse();
    assertThat(cleanup.removes(prefix + "3-0.thumb.jpg")).isFalse();
    assertThat(cleanup.removes(prefix + "2-0.png")).isTrue();
    assertThat(cleanup.removes(prefix + "1-0.thumb.jpg")).isTrue();
  }

  @Test
  void nothingIsCleanedForAFirstAttemptSuccessOrAnEventThatCannotNameItsPrefix() {
    assertThat(UploadCleanup.of(event("job.succeeded", 1), List.of())).isNull();
    assertThat(UploadCleanup.of(event("job.canceled", 0), List.of())).isNull();
    assertThat(UploadCleanup.of(event("job.failed", null), List.of())).isNull();
    assertThat(UploadCleanup.of(event("job.queued", 2), List.of())).isNull();
    assertThat(UploadCleanup.of(event("job.failed", 2).put("user_id", ""), List.of())).isNull();
    assertThat(UploadCleanup.of(event("job.failed", 2).put("job_id", "../x"), List.of())).isNull();
  }
}
