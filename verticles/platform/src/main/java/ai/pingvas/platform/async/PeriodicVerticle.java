package ai.pingvas.platform.async;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link #runOnce()} every {@code every}, never two at once (a tick that finds the last run
 * still going is skipped). A failed run is logged; the next tick tries again.
 */
public abstract class PeriodicVerticle extends VerticleBase {
  private final Logger log = LoggerFactory.getLogger(getClass());
  private final Duration every;
  private final String what;
  private long timer = -1;
  private boolean running;

  /** {@code what} names the task in the log line of a failed run. */
  protected PeriodicVerticle(Duration every, String what) {
    this.every = every;
    this.what = what;
  }

  /** One run of the task. */
  protected abstract Future<?> runOnce();

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(every.toMillis(), id -> tick());
    return Future.succeededFuture();
  }

  private void tick() {
    if (running) {
      return;
    }
    running = true;
    Future<?> run;
    try {
      run = runOnce();
    } catch (RuntimeException e) {
      run = Future.failedFuture(e);
    }
    run.onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        log.warn("{} failed (the next run tries again): {}", what, ar.cause().toString());
      }
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
