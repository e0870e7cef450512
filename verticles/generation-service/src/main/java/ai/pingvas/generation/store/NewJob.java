package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.JobParams;

/** A validated submission about to be stored. */
public record NewJob(String id, String userId, String tier, JobParams params, String idempotencyKey,
    byte[] requestHash, int maxAttempts) {
}
