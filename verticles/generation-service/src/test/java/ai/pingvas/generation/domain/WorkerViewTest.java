package ai.pingvas.generation.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a worker holds for placement (expected) and what it said it holds (reported). */
class WorkerViewTest {
  @Test
  void aJobSentHereCountsForPlacementButNotAsReportedUntilTheWorkerSaysSo() {
    WorkerView w = new WorkerView("w1", 1, 24_000, List.of("sd-1.5"));
    assertThat(w.reportedHolding("sd-1.5")).isTrue();
    w.start("j1", "sdxl", 10_000, 2);
    assertThat(w.holds("sdxl")).as("the next sdxl job should go here").isTrue();
    assertThat(w.reportedHolding("sdxl")).as("its install may still fail").isFalse();
    // the install failed: the worker's heartbeat does not list it
    w.reportModels(List.of("sd-1.5"));
    assertThat(w.holds("sdxl")).isFalse();
    assertThat(w.reportedHolding("sdxl")).isFalse();
    w.reportModels(List.of("sd-1.5", "sdxl", "pixel-lora"));
    assertThat(w.reportedHolding("sdxl")).isTrue();
    assertThat(w.reportedHolding("pixel-lora")).isTrue();
    w.reportModels(List.of());
    assertThat(w.reportedHolding("sd-1.5")).isFalse();
  }
}
