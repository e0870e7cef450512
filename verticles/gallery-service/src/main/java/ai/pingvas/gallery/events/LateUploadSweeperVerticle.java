package ai.pingvas.gallery.events;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.ImageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a finished job's cleanup once more when its recheck is due: a worker presumed dead (or one
 * whose attempt was canceled) may upload after the job's end with the URLs it still holds, until they
 * expire. Due rechecks are leased for {@value #LEASE_MINUTES} minutes, so replicas share them and
 * one that fails (storage down) is retried after the lease.
 */
public final class LateUploadSweeperVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(LateUploadSweeperVerticle.class);
  static final int BATCH = 100;
  static final long LEASE_MINUTES = 5;

  private final ImageStore store;
  private final OrphanRemover orphans;
  private final Duration every;
  private long timer = -1;
  private boolean sweeping;

  public LateUploadSweeperVerticle(ImageStore store, ObjectStore objects, Duration every, MeterRegistry registry) {
    this.store = store;
    this.orphans = new OrphanRemover(objects, registry);
    this.every = every;
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
    recheck().onComplete(ar -> {
      sweeping = false;
      if (ar.failed()) {
        LOG.warn("late upload recheck failed (retried once its lease ends): {}", ar.cause().toString());
      }
    });
  }

  /** Due batches until fewer than a full one are due. */
  private Future<Void> recheck() {
    return store.dueRechecks(BATCH, Duration.ofMinutes(LEASE_MINUTES)).compose(due -> due.isEmpty()
        ? Future.<Void>succeededFuture()
        : orphans.remove(context, due, "deleted uploads that came after their job ended")
            .compose(v -> store.rechecked(due))
            .compose(v -> due.size() < BATCH ? Future.<Void>succeededFuture() : recheck()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
