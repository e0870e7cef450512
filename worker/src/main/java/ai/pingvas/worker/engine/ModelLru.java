package ai.pingvas.worker.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models an engine keeps loaded, least recently used first, bounded by a VRAM budget (and a
 * count): using a model that does not fit evicts the least recently used ones until it does. A model
 * bigger than the whole budget is still kept, alone. Thread-safe.
 */
public final class ModelLru {
  private final long budgetMb;
  private final int maxModels;
  private final LinkedHashMap<String, Integer> loaded = new LinkedHashMap<>(16, 0.75f, true);

  public ModelLru(long budgetMb, int maxModels) {
    this.budgetMb = Math.max(0, budgetMb);
    this.maxModels = Math.max(1, maxModels);
  }

  /** Records a use of {@code model} taking {@code vramMb}; returns the models evicted to make room. */
  public synchronized List<String> use(String model, int vramMb) {
    loaded.remove(model);
    List<String> evicted = new ArrayList<>();
    long used = loaded.values().stream().mapToLong(Integer::longValue).sum();
    var eldest = loaded.entrySet().iterator();
    while (eldest.hasNext() && (used + vramMb > budgetMb || loaded.size() + 1 > maxModels)) {
      Map.Entry<String, Integer> victim = eldest.next();
      used -= victim.getValue();
      evicted.add(victim.getKey());
      eldest.remove();
    }
    loaded.put(model, vramMb);
    return evicted;
  }

  /** True if the model is loaded (without counting as a use). */
  public synchronized boolean contains(String model) {
    return loaded.containsKey(model);
  }

  /** Would using {@code model} evict anything? */
  public synchronized boolean wouldEvict(String model, int vramMb) {
    if (loaded.containsKey(model)) {
      return false;
    }
    long used = loaded.values().stream().mapToLong(Integer::longValue).sum();
    return !loaded.isEmpty() && (used + vramMb > budgetMb || loaded.size() + 1 > maxModels);
  }

  /** Keeps only the models the engine reports it still holds. */
  public synchronized void retain(java.util.Collection<String> stillLoaded) {
    loaded.keySet().retainAll(stillLoaded);
  }

  public synchronized void clear() {
    loaded.clear();
  }

  /** Loaded models, least recently used first. */
  public synchronized List<String> models() {
    return new ArrayList<>(loaded.keySet());
  }

  /** VRAM the loaded models take. */
  public synchronized long usedMb() {
    return loaded.values().stream().mapToLong(Integer::longValue).sum();
  }
}
