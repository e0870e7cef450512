package ai.pingvas.gallery.events;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.async.PeriodicVerticle;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;

/**
 * Runs a finished job's cleanup once more when its recheck is due: a worker presumed dead (or one
 * whose attempt was canceled) may upload after the job's end with the URLs it still holds, until they
 * expire. Due rechecks are leased for {@value #LEASE_MINUTES} minutes, so replicas share them and
 * one that fails (storage down) is retried after the lease.
 */
public final class LateUploadSweeperVerticle extends PeriodicVerticle {
  static final int BATCH = 100;
  static final long LEASE_MINUTES = 5;

  private final ImageStore store;
  private final OrphanRemover orphans;

  public LateUploadSweeperVerticle(ImageStore store, ObjectStore objects, Duration every, MeterRegistry registry) {
    super(every, "late upload recheck");
    this.store = store;
    this.orphans = new OrphanRemover(objects, registry);
  }

  /** Due batches until fewer than a full one are due. */
  @Override
  protected Future<Void> runOnce() {
    return store.dueRechecks(BATCH, Duration.ofMinutes(LEASE_MINUTES)).compose(due -> due.isEmpty()
        ? Future.<Void>succeededFuture()
        : orphans.remove(context, due, "deleted uploads that came after their job ended")
            .compose(v -> orphans.forgetRows(store, due))
            .compose(v -> store.rechecked(due))
            .compose(v -> due.size() < BATCH ? Future.<Void>succeededFuture() : runOnce()));
  }
}
