package ai.pingvas.generation.domain;

import ai.pingvas.protocol.LoraRef;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The effective generation parameters of a job (defaults applied, seed chosen). */
public record JobParams(String model, String prompt, String negativePrompt, int width, int height, int steps,
    double cfgScale, long seed, String scheduler, List<LoraRef> loras, int count, int priority) {

  /** The stored/serialised form (everything but model and prompt, which have their own columns). */
  public JsonObject toJson() {
    JsonArray loraJson = new JsonArray();
    loras.forEach(l -> loraJson.add(l.toJson()));
    JsonObject json = new JsonObject()
        .put("width", width).put("height", height).put("steps", steps).put("cfg_scale", cfgScale)
        .put("seed", seed).put("scheduler", scheduler).put("loras", loraJson).put("count", count)
        .put("priority", priority);
    if (negativePrompt != null) {
      json.put("negative_prompt", negativePrompt);
    }
    return json;
  }

  public static JobParams fromJson(String model, String prompt, JsonObject json) {
    List<LoraRef> loras = new ArrayList<>();
    JsonArray loraJson = json.getJsonArray("loras", new JsonArray());
    for (int i = 0; i < loraJson.size(); i++) {
      JsonObject l = loraJson.getJsonObject(i);
      loras.add(new LoraRef(l.getString("name"), l.getDouble("weight")));
    }
    return new JobParams(model, prompt, json.getString("negative_prompt"), json.getInteger("width"),
        json.getInteger("height"), json.getInteger("steps"), json.getDouble("cfg_scale"), json.getLong("seed"),
        json.getString("scheduler"), List.copyOf(loras), json.getInteger("count"), json.getInteger("priority", 0));
  }
}
