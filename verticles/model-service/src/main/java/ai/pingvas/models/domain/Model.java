package ai.pingvas.models.domain;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** A registered checkpoint or LoRA. */
public record Model(String name, String kind, String base, int sizeMb, int vramMb, String source, String sha256,
    JsonObject defaultParams, Instant createdAt, Instant updatedAt) {
  public static final String CHECKPOINT = "checkpoint";
  public static final String LORA = "lora";

  /** A model from an API body (validated against the contract) or a seed file; {@code name} wins over the body's. */
  public static Model fromJson(String name, JsonObject json) {
    return new Model(name, json.getString("kind"), json.getString("base"), json.getInteger("size_mb"),
        json.getInteger("vram_mb"), json.getString("source"), json.getString("sha256"),
        json.getJsonObject("default_params", new JsonObject()), null, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("name", name).put("kind", kind).put("base", base)
        .put("size_mb", sizeMb).put("vram_mb", vramMb).put("source", source).put("sha256", sha256)
        .put("default_params", defaultParams);
    if (createdAt != null) {
      json.put("created_at", createdAt.toString()).put("updated_at", updatedAt.toString());
    }
    return json;
  }
}
