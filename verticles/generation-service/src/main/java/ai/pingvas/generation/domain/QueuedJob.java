package ai.pingvas.generation.domain;

import java.util.List;

/**
 * A job waiting for a worker, as the scheduler sees it. {@code order} is a replica-independent
 * tie-breaker (enqueue time then id) so every replica orders the queue the same way.
 */
public record QueuedJob(String jobId, String userId, String tier, String model, List<String> loras,
    int priority, long enqueuedAtMs, long notBeforeMs, int steps, int count, long createdAtMs) {

  /** Expected run time on a warm worker, for ETA and wait estimates. */
  public long expectedRunMs(long stepMs) {
    return (long) steps * count * stepMs;
  }
}
