package ai.pingvas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.protocol.JobSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an attempt's result tells the router about loading the job's model. */
class AttemptTest {
  private static final JobSpec JOB = new JobSpec("j", 1, "sdxl", "a fox", null, 64, 64, 2, 7.0, 1, "euler", List.of(),
      1, 60_000, null);

  @Test
  void aColdAttemptReportsItsLoadOnceTheFirstStepCame() throws InterruptedException {
    Attempt cold = started(true);
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
    Attempt warm = started(false);
    warm.stepped();
    assertThat(warm.reportedLoadMs()).isNull();
  }

  @Test
  void timeInTheWorkersQueueIsNoPartOfTheLoad() throws InterruptedException {
    Attempt queued = new Attempt(JOB, List.of());
    assertThat(queued.started()).isFalse();
    Thread.sleep(300);
    queued.start(true);
    queued.stepped();
    assertThat(queued.reportedLoadMs()).as("queued 300 ms, then loaded at once").isLessThan(300);
    assertThat(queued.runningMs()).isLessThan(300);
  }

  private static Attempt started(boolean cold) {
    Attempt a = new Attempt(JOB, List.of());
    a.start(cold);
    return a;
  }
}
