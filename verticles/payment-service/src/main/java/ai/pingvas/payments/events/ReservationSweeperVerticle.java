package ai.pingvas.payments.events;

import ai.pingvas.payments.store.BillingStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases reservations still open past {@code queue.ttl + execution.timeout}: a job cannot hold
 * credits longer than it could possibly wait and run, even if its final event never arrives (or the
 * router crashed between reserving and storing it). Safe on every replica: releases are conditional.
 */
public final class ReservationSweeperVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ReservationSweeperVerticle.class);

  private final BillingStore store;
  private final Duration every;
  private final Duration keepVoided;
  private long timer = -1;
  private boolean sweeping;

  /** {@code keepVoided}: how long a voided job's row outlives its release (a reservation's longest life). */
  public ReservationSweeperVerticle(BillingStore store, Duration every, Duration keepVoided) {
    this.store = store;
    this.every = every;
    this.keepVoided = keepVoided;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(every.toMillis(), id -> sweep());
    return Future.succeededFuture();
  }

  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    store.overdue(500).compose(this::expire)
        .compose(v -> store.purgeVoided(Instant.now().minus(keepVoided))).onComplete(ar -> {
      sweeping = false;
      if (ar.failed()) {
        LOG.warn("reservation sweep failed: {}", ar.cause().toString());
      }
    });
  }

  private Future<Void> expire(List<String> jobIds) {
    Future<Void> chain = Future.succeededFuture();
    for (String jobId : jobIds) {
      chain = chain.compose(v -> store.release(jobId, true).map(moved -> {
        if (moved) {
          LOG.atInfo().addKeyValue("job_id", jobId).log("expired reservation released");
        }
        return (Void) null;
      }));
    }
    return chain;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
