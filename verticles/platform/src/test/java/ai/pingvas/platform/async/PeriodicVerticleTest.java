package ai.pingvas.platform.async;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PeriodicVerticleTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void runsOneAtATimeAndGoesOnAfterFailedAndThrowingRuns() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    PeriodicVerticle task = new PeriodicVerticle(Duration.ofMillis(10), "test task") {
      @Override
      protected Future<?> runOnce() {
        int run = runs.incrementAndGet();
        if (run == 2) {
          throw new IllegalStateException("thrown, not failed");
        }
        mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Promise<Void> done = Promise.promise();
        // each run lasts several ticks; the first fails
        vertx.setTimer(35, t -> {
          inFlight.decrementAndGet();
          if (run == 1) {
            done.fail("failed run");
          } else {
            done.complete();
          }
        });
        return done.future();
      }
    };
    String id = vertx.deployVerticle(task).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (runs.get() < 5) {
      assertThat(System.nanoTime()).as("five runs").isLessThan(deadline);
      Thread.sleep(10);
    }
    vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    int after = runs.get();
    Thread.sleep(100);

    assertThat(mostInFlight.get()).as("runs at once").isEqualTo(1);
    assertThat(runs.get()).as("no run after undeploy").isEqualTo(after);
  }
}
