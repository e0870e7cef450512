package ai.pingvas.generation.domain;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What loading each model has cost on this fleet: a moving average of the load times workers
 * report for the jobs the policy sent them cold. The policy weighs waiting for a worker that holds a
 * model against this, so a model that loads in a second is loaded onto an idle worker where one that
 * takes 30 s is waited for; the configured estimate stands in until a model's first report. Not
 * thread-safe: owned with the fleet by the dispatcher.
 */
public final class ModelLoadTimes {
  /** Weight of the newest report: about the last five loads of a model count. */
  private static final double WEIGHT = 0.3;
  /** Models remembered at most (the least recently used forgotten first). */
  private static final int MAX_MODELS = 4_096;

  private final Map<String, Double> meanMs = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Double> eldest) {
      return size() > MAX_MODELS;
    }
  };

  /** The model's load time as reported so far, or {@code fallbackMs} before its first report. */
  public long estimateMs(String model, long fallbackMs) {
    Double mean = meanMs.get(model);
    return mean == null ? fallbackMs : Math.round(mean);
  }

  /** A worker reports that loading {@code model} for a job took {@code ms}. */
  public void observe(String model, long ms) {
    if (ms < 0) {
      return;
    }
    meanMs.merge(model, (double) ms, (mean, latest) -> mean + WEIGHT * (latest - mean));
  }

  /** Model to its current estimate (ms), sorted by model. */
  public Map<String, Long> view() {
    Map<String, Long> out = new TreeMap<>();
    meanMs.forEach((model, mean) -> out.put(model, Math.round(mean)));
    return out;
  }
}
