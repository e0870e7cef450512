package ai.pingvas.gallery.events;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.Image;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.async.PeriodicVerticle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles the rows written at verification that are still unconfirmed {@code confirmAfter} later
 * (longer than a finished job's late-upload recheck): their job's {@code job.succeeded} was ingested
 * by a gallery older than the rows (a rolling deploy), or the attempt ended without succeeding and
 * its cleanup did not find them. By then every upload an unsucceeded attempt left has been deleted,
 * so an image whose object is still there is its job's result and is confirmed (listed); one whose
 * object is gone is forgotten. Batches of {@value #BATCH}, oldest first; safe on every replica.
 */
public final class UnconfirmedSweeperVerticle extends PeriodicVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(UnconfirmedSweeperVerticle.class);
  static final int BATCH = 100;

  private final ImageStore store;
  private final ObjectStore objects;
  private final Duration confirmAfter;
  private final Counter confirmed;
  private final Counter forgotten;

  public UnconfirmedSweeperVerticle(ImageStore store, ObjectStore objects, Duration confirmAfter, Duration every,
      MeterRegistry registry) {
    super(every, "unconfirmed image sweep");
    this.store = store;
    this.objects = objects;
    this.confirmAfter = confirmAfter;
    String name = "pingvas_gallery_unconfirmed_settled_total";
    String description = "images recorded at verification that no job.succeeded confirmed within images.confirm-after: "
        + "outcome=confirmed (object there) or forgotten (object gone)";
    this.confirmed = Counter.builder(name).description(description).tag("outcome", "confirmed").register(registry);
    this.forgotten = Counter.builder(name).description(description).tag("outcome", "forgotten").register(registry);
  }

  @Override
  protected Future<?> runOnce() {
    return store.unconfirmedBefore(Instant.now().minus(confirmAfter), BATCH)
        .compose(stale -> settle(stale, 0).compose(v -> stale.size() < BATCH ? Future.succeededFuture() : runOnce()));
  }

  private Future<Void> settle(List<Image> stale, int index) {
    if (index == stale.size()) {
      return Future.succeededFuture();
    }
    Image image = stale.get(index);
    return objects.head(context, image.objectKey())
        .compose(head -> store.settleUnconfirmed(image.id(), head != null).map(changed -> {
          if (changed) {
            (head != null ? confirmed : forgotten).increment();
            LOG.atInfo().addKeyValue("image_id", image.id()).addKeyValue("job_id", image.jobId())
                .addKeyValue("outcome", head != null ? "confirmed" : "forgotten")
                .log("settled an image no job.succeeded confirmed");
          }
          return (Void) null;
        }))
        .compose(v -> settle(stale, index + 1));
  }
}
