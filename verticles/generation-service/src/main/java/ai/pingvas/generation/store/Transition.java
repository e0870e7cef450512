package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.JobStatus;

/** The outcome of a state change: the job's new status and event seq, or why nothing changed. */
public record Transition(String jobId, String userId, JobStatus status, int seq, int attempt, boolean applied) {
  public static Transition refused(String jobId) {
    return new Transition(jobId, null, null, 0, 0, false);
  }
}
