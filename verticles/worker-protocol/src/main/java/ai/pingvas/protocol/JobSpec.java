package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * What a worker must render for one attempt of a job. {@code seed} is always set (the router picks
 * one when the user did not); image {@code i} uses {@code seed + i}. {@code modelSources} names,
 * for the job's models the worker did not report holding, where the registry keeps their weights
 * ({@code s3://bucket/key}), so a worker that lacks one can install it; empty for held models and
 * models the registry has no source for.
 */
public record JobSpec(String jobId, int attempt, String model, String prompt, String negativePrompt,
    int width, int height, int steps, double cfgScale, long seed, String scheduler, List<LoraRef> loras,
    int count, long executionTimeoutMs, Map<String, String> modelSources) {

  public JobSpec {
    modelSources = modelSources == null ? Map.of() : modelSources;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("job_id", jobId).put("attempt", attempt).put("model", model).put("prompt", prompt)
        .put("width", width).put("height", height).put("steps", steps).put("cfg_scale", cfgScale)
        .put("seed", seed).put("scheduler", scheduler)
        .put("loras", Json.array(loras, l -> ((LoraRef) l).toJson()))
        .put("count", count).put("execution_timeout_ms", executionTimeoutMs);
    if (negativePrompt != null) {
      json.put("negative_prompt", negativePrompt);
    }
    if (!modelSources.isEmpty()) {
      JsonObject sources = new JsonObject();
      modelSources.forEach(sources::put);
      json.put("model_sources", sources);
    }
    return json;
  }

  public static JobSpec fromJson(JsonObject json) {
    return new JobSpec(Json.str(json, "job_id"), (int) Json.num(json, "attempt"), Json.str(json, "model"),
        Json.str(json, "prompt"), Json.optStr(json, "negative_prompt"), (int) Json.num(json, "width"),
        (int) Json.num(json, "height"), (int) Json.num(json, "steps"), Json.dbl(json, "cfg_scale"),
        Json.num(json, "seed"), Json.str(json, "scheduler"), Json.objects(json, "loras", LoraRef::fromJson),
        (int) Json.num(json, "count"), Json.optNum(json, "execution_timeout_ms", 0),
        Json.stringMap(json, "model_sources"));
  }
}
