package ai.pingvas.generation.domain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The workers this router replica can assign to. Not thread-safe: owned by the dispatcher. */
public final class Fleet {
  private final Map<String, WorkerView> workers = new LinkedHashMap<>();
  private final ModelLoadTimes loadTimes = new ModelLoadTimes();

  /** What loading each model has cost on these workers (as they reported it). */
  public ModelLoadTimes loadTimes() {
    return loadTimes;
  }

  public void add(WorkerView worker) {
    workers.put(worker.id(), worker);
  }

  public WorkerView remove(String workerId) {
    return workers.remove(workerId);
  }

  public WorkerView get(String workerId) {
    return workers.get(workerId);
  }

  public Collection<WorkerView> all() {
    return workers.values();
  }

  public int size() {
    return workers.size();
  }

  /** Sets every worker's look-ahead window for the next scheduling round (see {@link WorkerView#lookahead}). */
  public void lookahead(long now, long leadMs) {
    for (WorkerView w : workers.values()) {
      w.lookahead(now, leadMs);
    }
  }

  /** The earliest look-ahead window that opens after {@code now}; MAX_VALUE if none will. */
  public long nextLookaheadAfter(long now, long leadMs) {
    long soonest = Long.MAX_VALUE;
    for (WorkerView w : workers.values()) {
      long at = w.lookaheadOpensAt(leadMs);
      if (at > now) {
        soonest = Math.min(soonest, at);
      }
    }
    return soonest;
  }

  public int totalFree() {
    int free = 0;
    for (WorkerView w : workers.values()) {
      free += w.free();
    }
    return free;
  }

  public int totalSlots() {
    int slots = 0;
    for (WorkerView w : workers.values()) {
      if (!w.draining()) {
        slots += w.slots();
      }
    }
    return slots;
  }

  public List<WorkerView> withFreeSlots() {
    List<WorkerView> out = new ArrayList<>();
    for (WorkerView w : workers.values()) {
      if (w.free() > 0) {
        out.add(w);
      }
    }
    return out;
  }

  /** Slots on live (not draining) workers that hold the model. */
  public int warmSlots(String model) {
    int slots = 0;
    for (WorkerView w : workers.values()) {
      if (!w.draining() && w.holds(model)) {
        slots += w.slots();
      }
    }
    return slots;
  }

  /** Workers (not draining) holding the model. */
  public int warmCopies(String model) {
    int copies = 0;
    for (WorkerView w : workers.values()) {
      if (!w.draining() && w.holds(model)) {
        copies++;
      }
    }
    return copies;
  }

  /** Milliseconds until some worker holding the model has a free slot; MAX_VALUE if none holds it. */
  public long msUntilWarmSlot(String model, long now) {
    long best = Long.MAX_VALUE;
    for (WorkerView w : workers.values()) {
      if (!w.draining() && w.holds(model)) {
        best = Math.min(best, w.msUntilFree(now));
      }
    }
    return best;
  }
}
