package ai.pingvas.generation.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ModelLoadTimesTest {
  @Test
  void theConfiguredEstimateStandsInUntilAModelsFirstReport() {
    ModelLoadTimes times = new ModelLoadTimes();
    assertThat(times.estimateMs("sdxl", 10_000)).isEqualTo(10_000);
    times.observe("sdxl", 4_000);
    assertThat(times.estimateMs("sdxl", 10_000)).isEqualTo(4_000);
    assertThat(times.estimateMs("sd-1.5", 10_000)).isEqualTo(10_000);
    assertThat(times.view()).containsExactlyEntriesOf(java.util.Map.of("sdxl", 4_000L));
  }

  @Test
  void laterReportsMoveTheEstimateWithoutOneOutlierTakingItOver() {
    ModelLoadTimes times = new ModelLoadTimes();
    times.observe("sdxl", 4_000);
    times.observe("sdxl", 14_000);
    long afterOutlier = times.estimateMs("sdxl", 0);
    assertThat(afterOutlier).isBetween(4_001L, 9_000L);
    for (int i = 0; i < 20; i++) {
      times.observe("sdxl", 2_000);
    }
    assertThat(times.estimateMs("sdxl", 0)).isBetween(2_000L, 2_050L);
    times.observe("sdxl", -5);
    assertThat(times.estimateMs("sdxl", 0)).isBetween(2_000L, 2_050L);
  }
}
