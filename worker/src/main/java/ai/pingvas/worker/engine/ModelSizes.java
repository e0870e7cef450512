package ai.pingvas.worker.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** VRAM per model from configuration ({@code engine.model-vram: "sdxl=8500,sd-1.5=3500"}), with a default. */
public final class ModelSizes {
  private final Map<String, Integer> vramMb;
  private final int defaultMb;

  public ModelSizes(List<String> entries, int defaultMb) {
    Map<String, Integer> parsed = new HashMap<>();
    for (String entry : entries) {
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("engine.model-vram entries look like name=megabytes, got '" + entry + "'");
      }
      parsed.put(entry.substring(0, eq).trim(), Integer.parseInt(entry.substring(eq + 1).trim()));
    }
    this.vramMb = Map.copyOf(parsed);
    this.defaultMb = defaultMb;
  }

  /** The configured size, or null when the configuration does not name the model. */
  public Integer configured(String model) {
    return vramMb.get(model);
  }

  /** The configured size, else the default. */
  public int of(String model) {
    return vramMb.getOrDefault(model, defaultMb);
  }
}
