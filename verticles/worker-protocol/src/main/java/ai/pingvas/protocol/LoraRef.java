package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;

/** A LoRA applied to a generation, with its weight. */
public record LoraRef(String name, double weight) {
  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("weight", weight);
  }

  public static LoraRef fromJson(JsonObject json) {
    return new LoraRef(Json.str(json, "name"), Json.dbl(json, "weight"));
  }
}
