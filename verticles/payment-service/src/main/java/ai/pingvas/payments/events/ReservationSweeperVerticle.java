package ai.pingvas.payments.events;

import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.platform.async.PeriodicVerticle;
import io.vertx.core.Future;
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
public final class ReservationSweeperVerticle extends PeriodicVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(ReservationSweeperVerticle.class);

  private final BillingStore store;
  private final Duration keepVoided;

  /** {@code keepVoided}: how long a voided job's row outlives its release (a reservation's longest life). */
  public ReservationSweeperVerticle(BillingStore store, Duration every, Duration keepVoided) {
    super(every, "reservation sweep");
    this.store = store;
    this.keepVoided = keepVoided;
  }

  @Override
  protected Future<?> runOnce() {
    return store.overdue(500).compose(this::expire)
        .compose(v -> store.purgeVoided(Instant.now().minus(keepVoided)));
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
}
