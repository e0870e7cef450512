package ai.pingvas.generation.domain;

import io.vertx.core.json.JsonArray;
import java.time.Instant;

/** A job as stored. */
public record Job(String id, String userId, String tier, JobStatus status, JobParams params, int attempt,
    int maxAttempts, String workerId, String routerId, int progressStep, int progressTotal, String errorCode,
    String errorMessage, JsonArray images, int eventSeq, Instant createdAt, Instant queuedAt,
    Instant startedAt, Instant finishedAt) {
}
