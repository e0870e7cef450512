package ai.pingvas.gallery.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** An image's metadata; {@code thumbnailKey} is null when no thumbnail could be made. */
public record Image(String id, String userId, String jobId, int attempt, int index, String objectKey, String prompt,
    String model, long seed, int width, int height, long sizeBytes, String sha256, Instant createdAt,
    String thumbnailKey, long thumbnailBytes) {

  /** The images a {@code job.succeeded} event names, not stored yet (no creation time, no thumbnail). */
  public static List<Image> ofSucceeded(JsonObject event) {
    List<Image> out = new ArrayList<>();
    JsonArray images = event.getJsonArray("images", new JsonArray());
    for (int i = 0; i < images.size(); i++) {
      JsonObject image = images.getJsonObject(i);
      out.add(new Image(image.getString("id"), event.getString("user_id"), event.getString("job_id"),
          event.getInteger("attempt"), image.getInteger("index"), image.getString("key"), event.getString("prompt"),
          event.getString("model"), image.getLong("seed"), image.getInteger("width"), image.getInteger("height"),
          image.getLong("size_bytes"), image.getString("sha256"), null, null, 0));
    }
    return out;
  }
}
