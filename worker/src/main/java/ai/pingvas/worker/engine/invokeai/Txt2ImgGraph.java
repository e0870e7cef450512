package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.worker.engine.EngineException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * Builds InvokeAI's text-to-image {@code Batch} for a job: the graph the web UI's linear mode
 * reduces to (model loader, LoRA chain, two prompts, noise, denoise, l2i), with one session per
 * image seeded through {@code batch.data}. SD 1.x/2.x and SDXL checkpoints; other bases are refused.
 */
final class Txt2ImgGraph {
  /** The source id of the image node; a completed item's image is the result of its prepared copy. */
  static final String IMAGE_NODE = "l2i";
  static final String NOISE_NODE = "noise";

  private Txt2ImgGraph() {
  }

  /** An installed model as InvokeAI's {@code ModelIdentifierField} wants it. */
  record ModelRef(String key, String hash, String name, String base, String type) {
    JsonObject toJson() {
      return new JsonObject().put("key", key).put("hash", hash).put("name", name).put("base", base).put("type", type);
    }

    static ModelRef of(JsonObject config) {
      return new ModelRef(config.getString("key"), config.getString("hash"), config.getString("name"),
          config.getString("base"), config.getString("type"));
    }
  }

  /** A LoRA with the weight the job asked for. */
  record LoraUse(ModelRef lora, double weight) {
  }

  static boolean supports(String base) {
    return "sd-1".equals(base) || "sd-2".equals(base) || "sdxl".equals(base);
  }

  /** The batch to enqueue: {@code count} sessions, image {@code i} seeded {@code seed + i}. */
  static JsonObject batch(JobSpec job, ModelRef model, List<LoraUse> loras) {
    if (!supports(model.base())) {
      throw new EngineException("model_unsupported", "the InvokeAI engine renders sd-1, sd-2 and sdxl checkpoints; '"
          + job.model() + "' is " + model.base(), false);
    }
    JsonArray seeds = new JsonArray();
    for (int i = 0; i < job.count(); i++) {
      seeds.add((job.seed() + i) % 4_294_967_296L);
    }
    JsonArray data = new JsonArray().add(new JsonArray().add(new JsonObject().put("node_path", NOISE_NODE)
        .put("field_name", "seed").put("items", seeds)));
    // our own batch id (InvokeAI's default is a uuid4 it makes): an enqueue whose answer is lost
    // (a timeout, a reset) after InvokeAI took it can still be cancelled by it
    return new JsonObject().put("batch_id", UUID.randomUUID().toString()).put("origin", "pingvas")
        .put("destination", job.jobId()).put("runs", 1).put("data", data).put("graph", graph(job, model, loras));
  }

  static JsonObject graph(JobSpec job, ModelRef model, List<LoraUse> loras) {
    boolean xl = "sdxl".equals(model.base());
    JsonObject nodes = new JsonObject();
    JsonArray edges = new JsonArray();
    nodes.put("model", node("model", xl ? "sdxl_model_loader" : "main_model_loader").put("model", model.toJson()));

    // LoRAs chain after the loader: model -> lora_0 -> lora_1 -> ... feed unet/clip(/clip2) onwards.
    String unet = "model";
    String clip = "model";
    for (int i = 0; i < loras.size(); i++) {
      String id = "lora_" + i;
      nodes.put(id, node(id, xl ? "sdxl_lora_loader" : "lora_loader").put("lora", loras.get(i).lora().toJson())
          .put("weight", loras.get(i).weight()));
      edges.add(edge(unet, "unet", id, "unet")).add(edge(clip, "clip", id, "clip"));
      if (xl) {
        edges.add(edge(clip, "clip2", id, "clip2"));
      }
      unet = id;
      clip = id;
    }

    String negative = job.negativePrompt() == null ? "" : job.negativePrompt();
    if (xl) {
      nodes.put("pos", xlPrompt("pos", job.prompt(), job));
      nodes.put("neg", xlPrompt("neg", negative, job));
    } else {
      nodes.put("pos", node("pos", "compel").put("prompt", job.prompt()));
      nodes.put("neg", node("neg", "compel").put("prompt", negative));
    }
    for (String prompt : List.of("pos", "neg")) {
      edges.add(edge(clip, "clip", prompt, "clip"));
      if (xl) {
        edges.add(edge(clip, "clip2", prompt, "clip2"));
      }
    }
    nodes.put(NOISE_NODE, node(NOISE_NODE, "noise").put("seed", job.seed() % 4_294_967_296L)
        .put("width", job.width()).put("height", job.height()).put("use_cpu", true));
    nodes.put("denoise", node("denoise", "denoise_latents").put("steps", job.steps())
        .put("cfg_scale", job.cfgScale()).put("scheduler", job.scheduler()).put("denoising_start", 0)
        .put("denoising_end", 1));
    nodes.put(IMAGE_NODE, node(IMAGE_NODE, "l2i").put("is_intermediate", false).put("fp32", false)
        .put("use_cache", false));
    edges.add(edge(unet, "unet", "denoise", "unet"))
        .add(edge("model", "vae", IMAGE_NODE, "vae"))
        .add(edge("pos", "conditioning", "denoise", "positive_conditioning"))
        .add(edge("neg", "conditioning", "denoise", "negative_conditioning"))
        .add(edge(NOISE_NODE, "noise", "denoise", "noise"))
        .add(edge("denoise", "latents", IMAGE_NODE, "latents"));
    return new JsonObject().put("id", "pingvas-" + job.jobId() + "-" + job.attempt()).put("nodes", nodes)
        .put("edges", edges);
  }

  private static JsonObject xlPrompt(String id, String text, JobSpec job) {
    return node(id, "sdxl_compel_prompt").put("prompt", text).put("style", text)
        .put("original_width", job.width()).put("original_height", job.height())
        .put("target_width", job.width()).put("target_height", job.height()).put("crop_top", 0).put("crop_left", 0);
  }

  private static JsonObject node(String id, String type) {
    return new JsonObject().put("id", id).put("type", type);
  }

  private static JsonObject edge(String source, String sourceField, String destination, String destinationField) {
    return new JsonObject()
        .put("source", new JsonObject().put("node_id", source).put("field", sourceField))
        .put("destination", new JsonObject().put("node_id", destination).put("field", destinationField));
  }
}
