package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.domain.JobParams;

/** A job held by a worker through this replica: dispatched (or adopted), with its attempt number. */
public record Claimed(String jobId, String userId, String tier, String workerId, int attempt, int seq,
    JobParams params, long queuedAtMs) {

  /** The claim a dispatched job row stands for. */
  public static Claimed of(Job job) {
    return new Claimed(job.id(), job.userId(), job.tier(), job.workerId(), job.attempt(), job.eventSeq(),
        job.params(), job.queuedAt().toEpochMilli());
  }
}
