package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.JobParams;

/**
 * A validated submission about to be stored: queued, or, when the dispatcher placed it at admission
 * ({@code workerId} and {@code routerId} set), already dispatched to that worker through that replica.
 */
public record NewJob(String id, String userId, String tier, JobParams params, String idempotencyKey,
    byte[] requestHash, int maxAttempts, String workerId, String routerId) {

  public NewJob(String id, String userId, String tier, JobParams params, String idempotencyKey, byte[] requestHash,
      int maxAttempts) {
    this(id, userId, tier, params, idempotencyKey, requestHash, maxAttempts, null, null);
  }

  /** The same submission, stored as dispatched to {@code workerId} through replica {@code routerId}. */
  public NewJob placedOn(String worker, String router) {
    return new NewJob(id, userId, tier, params, idempotencyKey, requestHash, maxAttempts, worker, router);
  }
}
