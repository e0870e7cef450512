package ai.pingvas.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CpuUseTest {
  /** A shell that runs a child spinning for {@code spinSeconds}, reaps it, then sleeps. */
  private static Process parentOfSpinner(double spinSeconds) throws Exception {
    return new ProcessBuilder("bash", "-c",
        "timeout " + spinSeconds + " bash -c 'while :; do :; done'; sleep 30").start();
  }

  @Test
  void aProcessTreeCountsTheChildrenItRanAndReapedButTheProcessAloneDoesNot() throws Exception {
    Process shell = parentOfSpinner(1.5);
    try {
      CpuUse cpu = new CpuUse().tree("tree", shell.pid()).process("alone", shell.pid()).start();
      Thread.sleep(2_500);
      JsonObject use = cpu.stop(1_000);
      double treeCores = use.getJsonObject("cores").getDouble("tree");
      // the child spun at most 1.5 s of the 2.5 s window, on a machine other work may share
      assertThat(treeCores).isBetween(0.05, 0.75);
      assertThat(use.getJsonObject("cores").getDouble("alone")).isLessThan(0.03);
      // CPU microseconds per unit of work: at most ~1.5 s over 1,000 units
      assertThat(use.getJsonObject("cpu_us_per_job").getDouble("tree")).isBetween(100.0, 1_900.0);
      assertThat(use.getDouble("machine_busy_cores")).isGreaterThanOrEqualTo(treeCores - 0.05);
    } finally {
      shell.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBusyThreadOfThisJvmShowsAsItsCoresAndAGoneProcessAsNothing() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor(5, TimeUnit.SECONDS);
    CpuUse cpu = new CpuUse().process("self", ProcessHandle.current().pid()).process("gone", gone.pid()).start();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_200);
    long spins = 0;
    while (System.nanoTime() < until) {
      spins++;
    }
    JsonObject use = cpu.stop(0);
    assertThat(spins).isPositive();
    assertThat(use.getJsonObject("cores").getDouble("self")).isGreaterThan(0.1);
    assertThat(use.getJsonObject("cores").getDouble("gone")).isZero();
    assertThat(use.getJsonObject("cpu_us_per_job").getDouble("self")).isZero();
    assertThat(use.getDouble("seconds")).isBetween(1.1, 5.0);
  }
}
