package ai.pingvas.generation.domain;

import java.util.Comparator;
import java.util.TreeSet;

/** One user's waiting jobs (own priority first, then age) and their fair-share virtual time. */
public final class UserQueue {
  static final Comparator<QueuedJob> JOB_ORDER = Comparator.comparingInt(QueuedJob::priority).reversed()
      .thenComparingLong(QueuedJob::enqueuedAtMs).thenComparing(QueuedJob::jobId);

  private final String userId;
  private Tier tier;
  private final TreeSet<QueuedJob> jobs = new TreeSet<>(JOB_ORDER);
  /** Virtual start tag of this user's next job (start-time fair queuing). */
  double nextStart;
  int running;
  private String trackedHead;
  private long headSinceMs;

  UserQueue(String userId, Tier tier) {
    this.userId = userId;
    this.tier = tier;
  }

  public String userId() {
    return userId;
  }

  public Tier tier() {
    return tier;
  }

  void setTier(Tier tier) {
    this.tier = tier;
  }

  public int running() {
    return running;
  }

  public int queued() {
    return jobs.size();
  }

  public boolean atRunningCap() {
    return running >= tier.maxRunning();
  }

  public QueuedJob head() {
    return jobs.isEmpty() ? null : jobs.first();
  }

  public double nextStart() {
    return nextStart;
  }

  /**
   * How long the user's current next job has been their next job. Aging counts from here, not
   * from submission: in a long queue every job is old, but only a job that keeps being passed over
   * is starving.
   */
  public long headWaitMs(long now) {
    QueuedJob head = head();
    if (head == null) {
      return 0;
    }
    if (!head.jobId().equals(trackedHead)) {
      trackedHead = head.jobId();
      headSinceMs = Math.max(now, head.enqueuedAtMs());
    }
    return now - headSinceMs;
  }

  TreeSet<QueuedJob> jobs() {
    return jobs;
  }
}
