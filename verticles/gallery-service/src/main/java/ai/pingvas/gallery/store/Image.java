package ai.pingvas.gallery.store;

import java.time.Instant;

/** An image's metadata; {@code thumbnailKey} is null when no thumbnail could be made. */
public record Image(String id, String userId, String jobId, int attempt, int index, String objectKey, String prompt,
    String model, long seed, int width, int height, long sizeBytes, String sha256, Instant createdAt,
    String thumbnailKey, long thumbnailBytes) {

  /** The same image with its thumbnail. */
  public Image withThumbnail(String key, long bytes) {
    return new Image(id, userId, jobId, attempt, index, objectKey, prompt, model, seed, width, height, sizeBytes,
        sha256, createdAt, key, bytes);
  }
}
