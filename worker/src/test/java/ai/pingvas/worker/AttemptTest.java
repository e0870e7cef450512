package ai.pingvas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.protocol.JobSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an attempt's result tells the router about loading the job's model. */
class AttemptTest {
  private static final JobSpec JOB = new JobSpec("j", 1, "sdxl", "a fox", null, 64, 64, 2, 7.0, 1, "euler", List.of(),
      1, 60_000);

  @Test
  void aColdAttemptReportsItsLoadOnceTheFirstStepCame() throws InterruptedException {
    Attempt cold = new Attempt(JOB, List.of(), true);
    assertThat(cold.reportedLoadMs()).as("no step yet: the load's end is unknown").isNull();
    Thread.sleep(30);
    cold.stepped();
    long loaded = cold.reportedLoadMs();
    assertThat(loaded).isGreaterThanOrEqualTo(30);
    Thread.sleep(30);
    cold.stepped();
    assertThat(cold.reportedLoadMs()).as("later steps do not extend the load").isEqualTo(loaded);
  }

  @Test
  void aWarmAttemptReportsNoLoad() {
    Attempt warm = new Attempt(JOB, List.of(), false);
    warm.stepped();
    assertThat(warm.reportedLoadMs()).isNull();
  }
}
