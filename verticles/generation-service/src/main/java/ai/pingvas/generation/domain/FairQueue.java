package ai.pingvas.generation.domain;

import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The queue of waiting jobs, fair between users: start-time fair queuing where a user's share is
 * their tier's weight. A user who bursts 10,000 jobs advances their own virtual time with each job
 * served, so another user's single job is served next. A user returning from idle starts at the
 * current virtual time (no banked credit). Jobs in retry backoff wait in {@code delayed} until due.
 *
 * <p>Plain data structure, not thread-safe: the dispatcher owns it on one event loop.
 */
public final class FairQueue {
  private static final Comparator<UserQueue> USER_ORDER = Comparator.comparingDouble(UserQueue::nextStart)
      .thenComparing(UserQueue::userId);
  private static final Comparator<QueuedJob> DUE_ORDER = Comparator.comparingLong(QueuedJob::notBeforeMs)
      .thenComparing(QueuedJob::jobId);

  private final Map<String, Tier> tiers;
  private final Map<String, UserQueue> users = new HashMap<>();
  private final TreeSet<UserQueue> backlogged = new TreeSet<>(USER_ORDER);
  private final Map<String, QueuedJob> jobs = new HashMap<>();
  private final TreeSet<QueuedJob> delayed = new TreeSet<>(DUE_ORDER);
  private final Map<String, Integer> demand = new HashMap<>();
  private final Map<String, String> active = new HashMap<>();
  /**
   * Users with nothing queued or running who are remembered only for their start credit (served
   * ahead of the virtual time): forgotten once the virtual time passes it, looked at every {@link
   * #SWEEP_EVERY} serves. Without this a user served while the virtual time stood still (every new
   * user starts at it, so a stream of one-job users never moves it) stayed in {@link #users} for
   * the life of the process: one entry per distinct user.
   */
  private final Set<String> idleUsers = new HashSet<>();
  private static final int SWEEP_EVERY = 1024;
  private long served;
  private double virtualTime;

  public FairQueue(Map<String, Tier> tiers) {
    this.tiers = Map.copyOf(tiers);
  }

  public Tier tier(String name) {
    Tier tier = tiers.get(name);
    return tier != null ? tier : tiers.get("free");
  }

  /** Adds a job (idempotent by id); returns false if it was already queued. */
  public boolean add(QueuedJob job, long now) {
    if (jobs.containsKey(job.jobId())) {
      return false;
    }
    jobs.put(job.jobId(), job);
    demand.merge(job.model(), 1, Integer::sum);
    if (job.notBeforeMs() > now) {
      delayed.add(job);
    } else {
      enqueue(job);
    }
    return true;
  }

  private void enqueue(QueuedJob job) {
    UserQueue user = user(job.userId(), job.tier());
    boolean wasIdle = user.jobs().isEmpty();
    if (wasIdle) {
      backlogged.remove(user);
      user.nextStart = Math.max(user.nextStart, virtualTime);
    }
    user.jobs().add(job);
    if (wasIdle) {
      backlogged.add(user);
    }
  }

  /** Removes a job wherever it is (dispatched by another replica, canceled, timed out). */
  public QueuedJob remove(String jobId) {
    QueuedJob job = jobs.remove(jobId);
    if (job == null) {
      return null;
    }
    demand.computeIfPresent(job.model(), (m, n) -> n > 1 ? n - 1 : null);
    if (!delayed.remove(job)) {
      UserQueue user = users.get(job.userId());
      if (user != null) {
        backlogged.remove(user);
        user.jobs().remove(job);
        if (!user.jobs().isEmpty()) {
          backlogged.add(user);
        }
        forgetIfIdle(user);
      }
    }
    return job;
  }

  /** Takes a job out for dispatch and charges its user one job of virtual time. */
  public void serve(QueuedJob job) {
    UserQueue user = users.get(job.userId());
    if (user == null || !jobs.containsKey(job.jobId())) {
      throw new IllegalStateException("job " + job.jobId() + " is not queued");
    }
    backlogged.remove(user);
    virtualTime = Math.max(virtualTime, user.nextStart);
    user.nextStart += 1.0 / user.tier().weight();
    user.jobs().remove(job);
    jobs.remove(job.jobId());
    demand.computeIfPresent(job.model(), (m, n) -> n > 1 ? n - 1 : null);
    if (!user.jobs().isEmpty()) {
      backlogged.add(user);
    }
    if (++served % SWEEP_EVERY == 0) {
      for (String idle : List.copyOf(idleUsers)) {
        UserQueue remembered = users.get(idle);
        if (remembered == null || !remembered.jobs().isEmpty() || remembered.running > 0) {
          idleUsers.remove(idle); // forgotten already, or busy again (it comes back here when idle)
        } else {
          forgetIfIdle(remembered);
        }
      }
    }
  }

  /** Users remembered (queued, running, or holding start credit): bounded by the users with work plus the recently idle. */
  public int rememberedUsers() {
    return users.size();
  }

  /** Moves jobs whose retry backoff has passed into their user's queue. */
  public void promoteDue(long now) {
    while (!delayed.isEmpty() && delayed.first().notBeforeMs() <= now) {
      enqueue(delayed.pollFirst());
    }
  }

  /** Earliest time a delayed job becomes due, or -1. */
  public long nextDueMs() {
    return delayed.isEmpty() ? -1 : delayed.first().notBeforeMs();
  }

  /** Users with eligible jobs, in fair-share order (who should be served next first). */
  public Iterator<UserQueue> usersInOrder() {
    return backlogged.iterator();
  }

  /** Counts a job as holding a worker slot (idempotent by job id: local and echoed events agree). */
  public void runningStarted(String jobId, String userId, String tier) {
    if (active.putIfAbsent(jobId, userId) == null) {
      user(userId, tier).running++;
    }
  }

  /** The job released its slot (finished, failed, canceled or re-queued). */
  public void runningEnded(String jobId) {
    String userId = active.remove(jobId);
    UserQueue user = userId == null ? null : users.get(userId);
    if (user != null && user.running > 0) {
      user.running--;
      forgetIfIdle(user);
    }
  }

  public boolean isRunning(String jobId) {
    return active.containsKey(jobId);
  }

  public int runningTotal() {
    return active.size();
  }

  public int running(String userId) {
    UserQueue user = users.get(userId);
    return user == null ? 0 : user.running;
  }

  /** Queued jobs of a user, delayed ones included. */
  public int queued(String userId) {
    UserQueue user = users.get(userId);
    int count = user == null ? 0 : user.queued();
    for (QueuedJob job : delayed) {
      if (job.userId().equals(userId)) {
        count++;
      }
    }
    return count;
  }

  public int size() {
    return jobs.size();
  }

  public boolean contains(String jobId) {
    return jobs.containsKey(jobId);
  }

  public QueuedJob get(String jobId) {
    return jobs.get(jobId);
  }

  /** Queued jobs for a model (its unmet demand). */
  public int demand(String model) {
    return demand.getOrDefault(model, 0);
  }

  /** Queued jobs per model, unmodifiable and live (no copy): read it, do not keep it. */
  public Map<String, Integer> demandView() {
    return java.util.Collections.unmodifiableMap(demand);
  }

  public Map<String, Integer> demandByModel() {
    return Map.copyOf(demand);
  }

  /** Queued jobs per tier and model (sorted), and when the longest-waiting one was enqueued. */
  public record Depth(long oldestEnqueuedMs, SortedMap<String, SortedMap<String, Integer>> byTierModel) {
  }

  /**
   * The queue's depth in one pass without a copy: the metrics snapshot takes it every second on the
   * router's event loop, over up to the whole queue. {@code now} is the oldest time when nothing waits.
   */
  public Depth depth(long now) {
    long oldest = now;
    SortedMap<String, SortedMap<String, Integer>> counts = new TreeMap<>();
    for (QueuedJob job : jobs.values()) {
      oldest = Math.min(oldest, job.enqueuedAtMs());
      counts.computeIfAbsent(job.tier(), t -> new TreeMap<>()).merge(job.model(), 1, Integer::sum);
    }
    return new Depth(oldest, counts);
  }

  /**
   * Jobs ahead of {@code jobId} under fair sharing: its position in its user's queue plus, for every
   * other backlogged user, how many of their jobs start (in virtual time) before it. Null if not
   * queued. Ignores running caps and model affinity, so it is an estimate, never a promise.
   */
  public Integer position(String jobId) {
    QueuedJob job = jobs.get(jobId);
    if (job == null) {
      return null;
    }
    if (delayed.contains(job)) {
      return aheadOf(job.userId(), users.get(job.userId()) == null ? 0 : users.get(job.userId()).queued(),
          job.userId());
    }
    UserQueue user = users.get(job.userId());
    // asked for new jobs, which sort at or near the end of their user's queue: count from that end
    // (a sub-set's size walks its elements; a deep backlog would make every submission O(n))
    int k = user.jobs().size() - 1 - user.jobs().tailSet(job, false).size();
    return aheadOf(user.userId(), k, user.userId());
  }

  /** Positions of a user's first {@code limit} queued jobs, in their queue order. */
  public Map<String, Integer> positionsOf(String userId, int limit) {
    Map<String, Integer> out = new HashMap<>();
    UserQueue user = users.get(userId);
    if (user == null) {
      return out;
    }
    int k = 0;
    for (QueuedJob job : user.jobs()) {
      if (k >= limit) {
        break;
      }
      out.put(job.jobId(), aheadOf(userId, k, userId));
      k++;
    }
    return out;
  }

  private int aheadOf(String userId, int k, String self) {
    UserQueue user = users.get(userId);
    double weight = user == null ? 1.0 : user.tier().weight();
    double start = (user == null ? virtualTime : Math.max(user.nextStart, virtualTime)) + k / weight;
    long ahead = k;
    for (UserQueue other : backlogged) {
      if (other.userId().equals(self)) {
        continue;
      }
      // other's job i starts at nextStart + i/weight; count those that start before ours
      // (equal starts go to the user who sorts first, as in usersInOrder)
      double x = (start - other.nextStart) * other.tier().weight();
      long before = x > 1e-9 ? (long) Math.ceil(x - 1e-9) : 0;
      if (x > -1e-9 && Math.abs(x - Math.rint(x)) < 1e-9 && other.userId().compareTo(self) < 0) {
        before++;
      }
      ahead += Math.min(before, other.queued());
    }
    return (int) Math.min(Integer.MAX_VALUE, ahead);
  }

  private UserQueue user(String userId, String tierName) {
    UserQueue user = users.get(userId);
    Tier tier = tier(tierName);
    if (user == null) {
      user = new UserQueue(userId, tier);
      user.nextStart = virtualTime;
      users.put(userId, user);
    } else if (!user.tier().name().equals(tier.name()) && user.jobs().isEmpty()) {
      user.setTier(tier);
    }
    return user;
  }

  /**
   * Forgets a user with nothing queued or running unless their start credit still matters: it is
   * ahead of the virtual time while others wait (with nobody waiting, a returning user starts at the
   * virtual time anyway, give or take the one job they were last served).
   */
  private void forgetIfIdle(UserQueue user) {
    if (!user.jobs().isEmpty() || user.running != 0) {
      return;
    }
    if (user.nextStart <= virtualTime || backlogged.isEmpty()) {
      users.remove(user.userId());
      idleUsers.remove(user.userId());
    } else {
      idleUsers.add(user.userId());
    }
  }
}
