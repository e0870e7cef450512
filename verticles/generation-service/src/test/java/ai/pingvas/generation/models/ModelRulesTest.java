package ai.pingvas.generation.models;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.models.ModelRules.Entry;
import ai.pingvas.generation.models.ModelRules.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelRulesTest {
  private static final Map<String, Entry> REGISTRY = Map.of(
      "sd-1.5", new Entry("sd-1.5", "checkpoint", "sd-1.5", null),
      "sdxl", new Entry("sdxl", "checkpoint", "sdxl", null),
      "detail", new Entry("detail", "lora", "sd-1.5", null),
      "pixel-xl", new Entry("pixel-xl", "lora", "sdxl", null));

  @Test
  void acceptsARegisteredCheckpointWithLorasOfItsBase() {
    assertThat(ModelRules.check(REGISTRY, "sd-1.5", List.of()).ok()).isTrue();
    assertThat(ModelRules.check(REGISTRY, "sdxl", List.of("pixel-xl")).ok()).isTrue();
  }

  @Test
  void refusesAnUnknownCheckpointOrLoraAsUnknownModel() {
    Verdict model = ModelRules.check(REGISTRY, "sd-9", List.of());
    assertThat(model.code()).isEqualTo("unknown_model");
    assertThat(model.detail()).contains("'sd-9'");
    Verdict lora = ModelRules.check(REGISTRY, "sd-1.5", List.of("detail", "nope"));
    assertThat(lora.code()).isEqualTo("unknown_model");
    assertThat(lora.detail()).contains("'nope'");
  }

  @Test
  void refusesALoraOfAnotherBaseAsIncompatible() {
    Verdict verdict = ModelRules.check(REGISTRY, "sd-1.5", List.of("pixel-xl"));
    assertThat(verdict.code()).isEqualTo("model_incompatible");
    assertThat(verdict.detail()).contains("sdxl").contains("sd-1.5");
  }

  @Test
  void refusesALoraAsTheModelAndACheckpointAsALora() {
    assertThat(ModelRules.check(REGISTRY, "detail", List.of()).code()).isEqualTo("model_incompatible");
    assertThat(ModelRules.check(REGISTRY, "sdxl", List.of("sdxl")).code()).isEqualTo("model_incompatible");
  }
}
