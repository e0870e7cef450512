package ai.pingvas.gallery.events;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.gallery.store.UploadCleanup;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the objects a finished job's {@link UploadCleanup} removes, at its end and once more later,
 * and the rows recorded for them.
 */
final class OrphanRemover {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanRemover.class);

  private final ObjectStore objects;
  private final Counter deleted;

  OrphanRemover(ObjectStore objects, MeterRegistry registry) {
    this.objects = objects;
    this.deleted = Counter.builder("pingvas_gallery_orphan_objects_deleted_total")
        .description("uploads of attempts that did not succeed, deleted once their job ended (or found on the "
            + "recheck after the upload URLs expired)").register(registry);
  }

  /** The cleanups in order, one job at a time; fails on the first storage failure. */
  Future<Void> remove(Context context, List<UploadCleanup> cleanups, String why) {
    Future<Void> chain = Future.succeededFuture();
    for (UploadCleanup cleanup : cleanups) {
      chain = chain.compose(v -> remove(context, cleanup, why));
    }
    return chain;
  }

  /**
   * Removes the rows of the images whose uploads the cleanups delete (rows follow their files):
   * recorded when an attempt's uploads were verified, the attempt then did not succeed (canceled or
   * fenced off meanwhile).
   */
  Future<Void> forgetRows(ImageStore store, List<UploadCleanup> cleanups) {
    return store.forgetRemoved(cleanups).map(n -> {
      if (n > 0) {
        LOG.atInfo().addKeyValue("jobs", cleanups.size()).addKeyValue("images", n)
            .log("forgot verified images of attempts that did not succeed");
      }
      return (Void) null;
    });
  }

  private Future<Void> remove(Context context, UploadCleanup cleanup, String why) {
    return objects.list(context, cleanup.prefix()).compose(keys -> {
      List<String> orphans = keys.stream().filter(cleanup::removes).toList();
      return Future.all(orphans.stream().map(key -> objects.delete(context, key)).toList()).map(done -> {
        if (!orphans.isEmpty()) {
          deleted.increment(orphans.size());
          LOG.atInfo().addKeyValue("job_id", cleanup.jobId()).addKeyValue("objects", orphans.size())
              .log(why);
        }
        return (Void) null;
      });
    });
  }
}
