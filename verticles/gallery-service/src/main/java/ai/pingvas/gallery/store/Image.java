package ai.pingvas.gallery.store;

import java.time.Instant;

/** An image's metadata; {@code thumbnailKey} is null when no thumbnail could be made. */
public record Image(String id, String userId, String jobId, int attempt, int index, String objectKey, String prompt,
    String model, long seed, int width, int height, long sizeBytes, String sha256, Instant createdAt,
    String thumbnailKey, long thumbnailBytes) {
}
