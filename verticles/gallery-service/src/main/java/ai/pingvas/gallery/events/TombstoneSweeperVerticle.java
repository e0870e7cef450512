package ai.pingvas.gallery.events;

import ai.pingvas.gallery.store.ImageStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
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
public final class TombstoneSweeperVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TombstoneSweeperVerticle.class);
  static final int BATCH = 10_000;

  private final ImageStore store;
  private final Duration keep;
  private final Duration every;
  private long timer = -1;
  private boolean sweeping;

  public TombstoneSweeperVerticle(ImageStore store, Duration keep, Duration every) {
    this.store = store;
    this.keep = keep;
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
    Instant before = Instant.now().minus(keep);
    purge(before, 0).onComplete(ar -> {
      sweeping = false;
      if (ar.failed()) {
        LOG.warn("tombstone sweep failed (next one retries): {}", ar.cause().toString());
      } else if (ar.result() > 0) {
        LOG.atInfo().addKeyValue("purged", ar.result()).addKeyValue("older_than", before.toString())
            .log("deleted images' tombstones forgotten");
      }
    });
  }

  private Future<Integer> purge(Instant before, int sofar) {
    return store.purgeTombstones(before, BATCH)
        .compose(n -> n < BATCH ? Future.succeededFuture(sofar + n) : purge(before, sofar + n));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
