package ai.pingvas.generation.domain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler's view of one worker: slots, the jobs it runs, and the models it holds in LRU order
 * (oldest first). Updated optimistically on assignment and corrected by heartbeats.
 *
 * <p>With a look-ahead window ({@link #lookahead}), a worker whose slots are all taken but whose
 * soonest job is expected to end within the window offers one more slot: the job placed there is
 * its <em>next</em> job, claimed ahead and sent at once into the worker's queue, or for a worker
 * without one held by the router until a slot frees ({@link #finish} then promotes it, see
 * {@link #takePromoted}). That hides the claim's commit (and, with a worker queue, the report's
 * round trip) from the GPU's idle time between jobs.
 */
public final class WorkerView {
  private final String id;
  private final int slots;
  private final int vramMb;
  private final LinkedHashSet<String> models = new LinkedHashSet<>();
  /** What the worker itself last said it holds (models also lists what jobs sent here will load). */
  private final Set<String> reported = new HashSet<>();
  private final Map<String, Long> expectedEndMs = new HashMap<>();
  private boolean draining;
  private long modelLoads;
  /** The job claimed ahead for this worker while its slots are full (null: none). */
  private String next;
  private long nextRunMs;
  private String promoted;
  private long lookaheadNow;
  private long lookaheadLeadMs;

  public WorkerView(String id, int slots, int vramMb, List<String> modelsLoaded) {
    this.id = id;
    this.slots = slots;
    this.vramMb = vramMb;
    this.models.addAll(modelsLoaded);
    this.reported.addAll(modelsLoaded);
  }

  public String id() {
    return id;
  }

  public int slots() {
    return slots;
  }

  public int vramMb() {
    return vramMb;
  }

  /** Jobs running on the worker (not counting a next job held for it). */
  public int busy() {
    return expectedEndMs.size();
  }

  /** Slots free right now (not counting the look-ahead slot). */
  public int openSlots() {
    return draining ? 0 : Math.max(0, slots - expectedEndMs.size() - (next != null ? 1 : 0));
  }

  /** Slots a new job may take now: open slots, or the look-ahead slot of a worker about to free one. */
  public int free() {
    int open = openSlots();
    if (open > 0) {
      return open;
    }
    return !draining && next == null && expectedEndMs.size() == slots && endsWithinLookahead() ? 1 : 0;
  }

  /**
   * Sets the look-ahead window for the next scheduling round: a full worker whose soonest job is
   * expected to end within {@code leadMs} of {@code now} (and has not overrun its estimate by more
   * than that) offers one slot for its next job. {@code leadMs} 0 turns look-ahead off.
   */
  public void lookahead(long now, long leadMs) {
    this.lookaheadNow = now;
    this.lookaheadLeadMs = leadMs;
  }

  private boolean endsWithinLookahead() {
    if (lookaheadLeadMs <= 0 || expectedEndMs.isEmpty()) {
      return false;
    }
    long soonest = soonestEnd();
    return soonest >= lookaheadNow - lookaheadLeadMs && soonest <= lookaheadNow + lookaheadLeadMs;
  }

  private long soonestEnd() {
    long soonest = Long.MAX_VALUE;
    for (long end : expectedEndMs.values()) {
      soonest = Math.min(soonest, end);
    }
    return soonest;
  }

  /**
   * When this full worker's look-ahead window opens (its soonest expected end minus {@code leadMs});
   * MAX_VALUE if it has an open slot, a next job already, drains, or runs nothing.
   */
  public long lookaheadOpensAt(long leadMs) {
    if (leadMs <= 0 || draining || next != null || expectedEndMs.isEmpty() || expectedEndMs.size() < slots) {
      return Long.MAX_VALUE;
    }
    return soonestEnd() - leadMs;
  }

  /** The job claimed ahead for this worker, held until a slot frees; null if none. */
  public String nextJob() {
    return next;
  }

  /** The job {@link #finish} just moved from next to running (it is cleared by this call); null if none. */
  public String takePromoted() {
    String out = promoted;
    promoted = null;
    return out;
  }

  /** A better estimate of when a running job ends (from its progress). */
  public void expectEnd(String jobId, long expectedEnd) {
    expectedEndMs.computeIfPresent(jobId, (id, old) -> expectedEnd);
  }

  public boolean draining() {
    return draining;
  }

  public void setDraining(boolean draining) {
    this.draining = draining;
  }

  public boolean holds(String model) {
    return models.contains(model);
  }

  /** Models in LRU order, least recently used first. */
  public List<String> models() {
    return new ArrayList<>(models);
  }

  public Set<String> runningJobs() {
    return expectedEndMs.keySet();
  }

  public long modelLoads() {
    return modelLoads;
  }

  /** Replaces the model list with what the worker reports. */
  public void reportModels(List<String> reported) {
    models.retainAll(reported);
    models.addAll(reported);
    this.reported.clear();
    this.reported.addAll(reported);
  }

  /** Whether the worker's own last report (hello or heartbeat) listed the model. */
  public boolean reportedHolding(String model) {
    return reported.contains(model);
  }

  /**
   * Marks a job running here and the model most recently used; evicts beyond {@code capacity}. On a
   * full worker (its look-ahead slot) the job becomes its next job instead.
   */
  public void start(String jobId, String model, long expectedEnd, int modelCapacity) {
    if (openSlots() == 0 && free() > 0) { // the look-ahead slot
      next = jobId;
      nextRunMs = Math.max(0, expectedEnd - lookaheadNow);
    } else {
      expectedEndMs.put(jobId, expectedEnd);
    }
    if (!models.remove(model)) {
      modelLoads++;
    }
    models.add(model);
    while (models.size() > Math.max(1, modelCapacity)) {
      String eldest = models.iterator().next();
      models.remove(eldest);
    }
  }

  /**
   * Frees the job's slot (or drops it as the next job); returns whether it was here. A next job
   * waiting for the slot takes it: see {@link #takePromoted}.
   */
  public boolean finish(String jobId) {
    if (jobId.equals(next)) {
      next = null;
      return true;
    }
    if (expectedEndMs.remove(jobId) == null) {
      return false;
    }
    if (next != null && expectedEndMs.size() < slots) {
      expectedEndMs.put(next, System.currentTimeMillis() + nextRunMs);
      promoted = next;
      next = null;
    }
    return true;
  }

  /** Milliseconds until the first slot is expected to free up (0 if one is free). */
  public long msUntilFree(long now) {
    if (openSlots() > 0) {
      return 0;
    }
    long soonest = Math.max(0, soonestEnd() - now);
    return next != null ? soonest + nextRunMs : soonest;
  }
}
