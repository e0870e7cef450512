package ai.pingvas.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelLruTest {
  @Test
  void evictsLeastRecentlyUsedModelsUntilTheNewOneFitsTheVramBudget() {
    ModelLru lru = new ModelLru(10_000, 10);
    assertThat(lru.use("sd-1.5", 3_500)).isEmpty();
    assertThat(lru.use("sd-2", 3_500)).isEmpty();
    lru.use("sd-1.5", 3_500);                       // now sd-2 is the least recently used
    assertThat(lru.wouldEvict("sdxl", 8_500)).isTrue();
    assertThat(lru.use("sdxl", 5_000)).containsExactly("sd-2");
    assertThat(lru.models()).containsExactly("sd-1.5", "sdxl");
    assertThat(lru.usedMb()).isEqualTo(8_500);
  }

  @Test
  void alsoBoundsTheNumberOfModels() {
    ModelLru lru = new ModelLru(100_000, 2);
    lru.use("a", 1);
    lru.use("b", 1);
    assertThat(lru.use("c", 1)).containsExactly("a");
  }

  @Test
  void aModelLargerThanTheBudgetIsKeptAlone() {
    ModelLru lru = new ModelLru(4_000, 4);
    lru.use("small", 1_000);
    assertThat(lru.use("flux", 24_000)).containsExactly("small");
    assertThat(lru.models()).containsExactly("flux");
  }

  @Test
  void retainsOnlyWhatTheEngineStillHolds() {
    ModelLru lru = new ModelLru(10_000, 4);
    lru.use("a", 1);
    lru.use("b", 1);
    lru.retain(List.of("b", "zzz"));
    assertThat(lru.models()).containsExactly("b");
    assertThat(lru.contains("a")).isFalse();
  }
}
