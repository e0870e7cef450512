package ai.pingvas.gallery.store;

import java.time.Instant;

/** An image's metadata. */
public record Image(String id, String userId, String jobId, int attempt, int index, String objectKey, String prompt,
    String model, long seed, int width, int height, long sizeBytes, String sha256, Instant createdAt) {
}
