package ai.pingvas.gallery.events;

import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.async.PeriodicVerticle;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forgets deleted images' tombstones once no replay of their job's event can come any more (they
 * keep a replayed {@code job.succeeded} from bringing a deleted image back; the events topic keeps a
 * week at most). Batches of {@value #BATCH}, the oldest first, until none is left. Safe on every
 * replica: a tombstone goes once.
 */
public final class TombstoneSweeperVerticle extends PeriodicVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(TombstoneSweeperVerticle.class);
  static final int BATCH = 10_000;

  private final ImageStore store;
  private final Duration keep;

  public TombstoneSweeperVerticle(ImageStore store, Duration keep, Duration every) {
    super(every, "tombstone sweep");
    this.store = store;
    this.keep = keep;
  }

  @Override
  protected Future<?> runOnce() {
    Instant before = Instant.now().minus(keep);
    return purge(before, 0).onSuccess(purged -> {
      if (purged > 0) {
        LOG.atInfo().addKeyValue("purged", purged).addKeyValue("older_than", before.toString())
            .log("deleted images' tombstones forgotten");
      }
    });
  }

  private Future<Integer> purge(Instant before, int sofar) {
    return store.purgeTombstones(before, BATCH)
        .compose(n -> n < BATCH ? Future.succeededFuture(sofar + n) : purge(before, sofar + n));
  }
}
