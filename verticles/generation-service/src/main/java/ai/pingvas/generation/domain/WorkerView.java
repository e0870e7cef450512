package ai.pingvas.generation.domain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler's view of one worker: slots, the jobs it runs, and the models it holds in LRU order
 * (oldest first). Updated optimistically on assignment and corrected by heartbeats.
 */
public final class WorkerView {
  private final String id;
  private final int slots;
  private final int vramMb;
  private final LinkedHashSet<String> models = new LinkedHashSet<>();
  private final Map<String, Long> expectedEndMs = new HashMap<>();
  private boolean draining;
  private long modelLoads;

  public WorkerView(String id, int slots, int vramMb, List<String> modelsLoaded) {
    this.id = id;
    this.slots = slots;
    this.vramMb = vramMb;
    this.models.addAll(modelsLoaded);
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

  public int busy() {
    return expectedEndMs.size();
  }

  public int free() {
    return draining ? 0 : Math.max(0, slots - expectedEndMs.size());
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
  }

  /** Marks a job running here and the model most recently used; evicts beyond {@code capacity}. */
  public void start(String jobId, String model, long expectedEnd, int modelCapacity) {
    if (!models.remove(model)) {
      modelLoads++;
    }
    models.add(model);
    while (models.size() > Math.max(1, modelCapacity)) {
      String eldest = models.iterator().next();
      models.remove(eldest);
    }
    expectedEndMs.put(jobId, expectedEnd);
  }

  /** Frees the job's slot; returns whether it was here. */
  public boolean finish(String jobId) {
    return expectedEndMs.remove(jobId) != null;
  }

  /** Milliseconds until the first slot is expected to free up (0 if one is free). */
  public long msUntilFree(long now) {
    if (free() > 0) {
      return 0;
    }
    long soonest = Long.MAX_VALUE;
    for (long end : expectedEndMs.values()) {
      soonest = Math.min(soonest, Math.max(0, end - now));
    }
    return soonest;
  }
}
