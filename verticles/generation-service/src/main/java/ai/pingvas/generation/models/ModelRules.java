package ai.pingvas.generation.models;

import java.util.List;
import java.util.Map;

/** Whether a job's checkpoint and LoRAs exist in the registry and fit together. Pure logic. */
public final class ModelRules {
  private ModelRules() {
  }

  /** What the registry says about one model name; {@code source} is where its weights are kept ({@code s3://…}). */
  public record Entry(String name, String kind, String base, String source) {
    public static final String CHECKPOINT = "checkpoint";
    public static final String LORA = "lora";
  }

  /** A verdict: {@code code} is null when the job may run, else {@code unknown_model} or {@code model_incompatible}. */
  public record Verdict(String code, String detail) {
    static final Verdict OK = new Verdict(null, null);

    public boolean ok() {
      return code == null;
    }

    public boolean unknown() {
      return UNKNOWN.equals(code);
    }
  }

  public static final String UNKNOWN = "unknown_model";
  public static final String INCOMPATIBLE = "model_incompatible";

  public static Verdict check(Map<String, Entry> registry, String model, List<String> loras) {
    Entry checkpoint = registry.get(model);
    if (checkpoint == null) {
      return new Verdict(UNKNOWN, "no model named '" + model + "' is registered (GET /v1/models lists them)");
    }
    if (!Entry.CHECKPOINT.equals(checkpoint.kind())) {
      return new Verdict(INCOMPATIBLE, "'" + model + "' is a " + checkpoint.kind()
          + ", not a checkpoint: name a checkpoint as model and put LoRAs in loras");
    }
    for (String name : loras) {
      Entry lora = registry.get(name);
      if (lora == null) {
        return new Verdict(UNKNOWN, "no LoRA named '" + name + "' is registered (GET /v1/models?kind=lora lists them)");
      }
      if (!Entry.LORA.equals(lora.kind())) {
        return new Verdict(INCOMPATIBLE, "'" + name + "' in loras is a " + lora.kind() + ", not a LoRA");
      }
      if (!lora.base().equals(checkpoint.base())) {
        return new Verdict(INCOMPATIBLE, "LoRA '" + name + "' is made for " + lora.base() + " models, but '" + model
            + "' is " + checkpoint.base());
      }
    }
    return Verdict.OK;
  }
}
