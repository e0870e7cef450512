package ai.pingvas.worker.engine.invokeai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.worker.engine.EngineException;
import ai.pingvas.worker.engine.invokeai.Txt2ImgGraph.LoraUse;
import ai.pingvas.worker.engine.invokeai.Txt2ImgGraph.ModelRef;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class Txt2ImgGraphTest {
  private static final JobSpec JOB = new JobSpec("job-1", 2, "sdxl", "a fox", null, 1024, 768, 25, 7.0, 4_294_967_295L,
      "euler_a", List.of(), 2, 0, null);

  private static boolean hasEdge(JsonArray edges, String from, String field, String to, String toField) {
    return edges.stream().map(JsonObject.class::cast).anyMatch(e ->
        e.getJsonObject("source").getString("node_id").equals(from)
            && e.getJsonObject("source").getString("field").equals(field)
            && e.getJsonObject("destination").getString("node_id").equals(to)
            && e.getJsonObject("destination").getString("field").equals(toField));
  }

  @Test
  void sdxlBatchChainsLorasAndSeedsEachImageThroughBatchData() {
    ModelRef model = new ModelRef("k", "h", "sdxl", "sdxl", "main");
    ModelRef lora = new ModelRef("lk", "lh", "pixel", "sdxl", "lora");
    JsonObject batch = Txt2ImgGraph.batch(JOB, model, List.of(new LoraUse(lora, 0.8)));

    assertThat(batch.getInteger("runs")).isEqualTo(1);
    JsonObject datum = batch.getJsonArray("data").getJsonArray(0).getJsonObject(0);
    assertThat(datum.getString("node_path")).isEqualTo("noise");
    assertThat(datum.getJsonArray("items").getList()).containsExactly(4_294_967_295L, 0L);

    JsonObject graph = batch.getJsonObject("graph");
    JsonObject nodes = graph.getJsonObject("nodes");
    nodes.fieldNames().forEach(id -> assertThat(nodes.getJsonObject(id).getString("id")).isEqualTo(id));
    assertThat(nodes.getJsonObject("model").getString("type")).isEqualTo("sdxl_model_loader");
    assertThat(nodes.getJsonObject("lora_0").getDouble("weight")).isEqualTo(0.8);
    assertThat(nodes.getJsonObject("neg").getString("prompt")).isEmpty();
    assertThat(nodes.getJsonObject("noise").getInteger("width")).isEqualTo(1024);
    assertThat(nodes.getJsonObject("l2i").getBoolean("is_intermediate")).isFalse();
    JsonArray edges = graph.getJsonArray("edges");
    assertThat(hasEdge(edges, "model", "unet", "lora_0", "unet")).isTrue();
    assertThat(hasEdge(edges, "lora_0", "clip2", "pos", "clip2")).isTrue();
    assertThat(hasEdge(edges, "lora_0", "unet", "denoise", "unet")).isTrue();
    assertThat(hasEdge(edges, "model", "vae", "l2i", "vae")).isTrue();
    assertThat(hasEdge(edges, "denoise", "latents", "l2i", "latents")).isTrue();
  }

  @Test
  void refusesBasesItHasNoGraphFor() {
    ModelRef flux = new ModelRef("k", "h", "flux-dev", "flux", "main");
    assertThatThrownBy(() -> Txt2ImgGraph.batch(JOB, flux, List.of())).isInstanceOf(EngineException.class)
        .extracting(e -> ((EngineException) e).code()).isEqualTo("model_unsupported");
  }
}
