package ai.pingvas.gallery.events;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.storage.Thumbnailer;
import ai.pingvas.gallery.store.Image;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.gallery.store.UploadCleanup;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the images of every {@code job.succeeded} event. Idempotent (image ids are derived from
 * object keys; inserts ignore known ids) and at-least-once: offsets are committed only after the
 * batch is stored, so a crash replays rather than loses.
 *
 * <p>It also deletes the uploads nobody will ever serve: those of a job's attempts that did not
 * succeed (a worker presumed dead, a timed-out or canceled attempt, a failed job). A terminal event
 * of attempt {@code n} removes the objects of attempts up to {@code n} under the job's prefix,
 * except the succeeded attempt's images and thumbnails, and the rows recorded for them when their
 * uploads were verified; a later attempt's objects (an operator re-ran the job) are never touched,
 * whatever the order events are replayed in. The job is looked
 * at again {@code recheckAfter} later ({@link LateUploadSweeperVerticle}), once the upload URLs a
 * worker presumed dead may still hold have expired.
 */
public final class ImageIngestVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ImageIngestVerticle.class);

  private final KafkaSettings kafka;
  private final String topic;
  private final String group;
  private final ImageStore store;
  private final ObjectStore objects;
  private final Thumbnailer thumbnailer;
  private final Counter ingested;
  private final Counter thumbnailsMissing;
  private final OrphanRemover orphans;
  private final Duration recheckAfter;
  private KafkaConsumer<String, String> consumer;

  public ImageIngestVerticle(KafkaSettings kafka, String topic, String group, ImageStore store, ObjectStore objects,
      Thumbnailer thumbnailer, Duration recheckAfter, MeterRegistry registry) {
    this.kafka = kafka;
    this.topic = topic;
    this.group = group;
    this.store = store;
    this.objects = objects;
    this.thumbnailer = thumbnailer;
    this.ingested = Counter.builder("pingvas_gallery_images_ingested_total")
        .description("images the ingest recorded from job.succeeded events (ones not already recorded when the "
            + "router verified their uploads)").register(registry);
    this.thumbnailsMissing = Counter.builder("pingvas_gallery_thumbnails_failed_total")
        .description("images recorded without a thumbnail (object missing or not decodable)").register(registry);
    this.orphans = new OrphanRemover(objects, registry);
    this.recheckAfter = recheckAfter;
  }

  @Override
  public Future<?> start() {
    consumer = KafkaConsumer.create(vertx, kafka.consumer(group, "earliest"));
    consumer.handler(record -> {
    });
    consumer.batchHandler(this::ingest);
    consumer.exceptionHandler(err -> LOG.warn("image ingest consumer: {}", err.toString()));
    return consumer.subscribe(topic);
  }

  private void ingest(KafkaConsumerRecords<String, String> records) {
    // one per id: a relay that crashed after publishing publishes again, often into the same batch
    Map<String, Image> byId = new LinkedHashMap<>();
    // one per job, its latest attempt's (which covers the earlier ones): a re-published terminal
    // event, or a failed attempt and an operator's re-run that succeeded, in one batch would
    // otherwise have the recheck's upsert touch a row twice, failing the batch on every replay
    Map<String, UploadCleanup> cleanupByJob = new LinkedHashMap<>();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> record = records.recordAt(i);
      try {
        JsonObject event = new JsonObject(record.value());
        List<Image> own = "job.succeeded".equals(event.getString("type")) ? Image.ofSucceeded(event) : List.of();
        own.forEach(image -> byId.putIfAbsent(image.id(), image));
        UploadCleanup cleanup = UploadCleanup.of(event, own);
        if (cleanup != null) {
          cleanupByJob.merge(cleanup.jobId(), cleanup, (a, b) -> b.upTo() >= a.upTo() ? b : a);
        }
      } catch (RuntimeException e) {
        LOG.warn("skipping malformed event at {}-{}@{}", record.topic(), record.partition(), record.offset());
      }
    }
    List<Image> images = List.copyOf(byId.values());
    List<UploadCleanup> cleanups = List.copyOf(cleanupByJob.values());
    if (images.isEmpty() && cleanups.isEmpty()) {
      consumer.commit();
      return;
    }
    consumer.pause();
    // Rows first (most were recorded when the router verified their uploads), then thumbnails.
    Future<Void> recorded = images.isEmpty() ? Future.succeededFuture() : store.insert(images)
        .compose(stored -> {
          ingested.increment(stored);
          return store.withoutThumbnail(images.stream().map(Image::id).toList());
        })
        .compose(missing -> thumbnails(images.stream().filter(i -> missing.contains(i.id())).toList(), 0));
    // what a worker presumed dead uploads later, with the URLs it still holds, the recheck finds
    recorded.compose(v -> orphans.remove(context, cleanups, "deleted the uploads of attempts that did not succeed"))
        .compose(v -> orphans.forgetRows(store, cleanups))
        .compose(v -> cleanups.isEmpty() ? Future.<Void>succeededFuture()
            : store.scheduleRechecks(cleanups, recheckAfter))
        .compose(v -> consumer.commit())
        .onComplete(ar -> {
          if (ar.failed()) {
            LOG.atWarn().addKeyValue("error", ar.cause().toString())
                .log("image ingest failed; the batch will be replayed");
            consumer.close();
            vertx.setTimer(1_000, id -> restart());
          } else {
            consumer.resume();
          }
        });
  }

  /**
   * Makes the missing thumbnails one at a time (bounded memory and CPU). A replayed batch only
   * redoes thumbnails that were not recorded. An image that cannot be read stays without one; a
   * storage failure fails the batch, which is replayed.
   */
  private Future<Void> thumbnails(List<Image> images, int index) {
    if (index == images.size()) {
      return Future.succeededFuture();
    }
    Image image = images.get(index);
    String key = Thumbnailer.keyOf(image.objectKey());
    return objects.get(context, image.objectKey())
        .compose(bytes -> bytes == null ? Future.<byte[]>succeededFuture(null)
            : vertx.executeBlocking(() -> thumbnailer.thumbnail(bytes), false).otherwise(err -> {
              LOG.atWarn().addKeyValue("image_id", image.id()).addKeyValue("error", err.toString())
                  .log("cannot make a thumbnail; the image stays without one");
              return null;
            }))
        .compose(thumb -> {
          if (thumb == null) {
            thumbnailsMissing.increment();
            return Future.<Void>succeededFuture();
          }
          return objects.put(context, key, thumb, Thumbnailer.CONTENT_TYPE)
              .compose(v -> store.setThumbnail(image.id(), key, thumb.length))
              // the owner deleted the image while its thumbnail was made: nothing will name it
              .compose(recorded -> recorded ? Future.<Void>succeededFuture() : objects.delete(context, key));
        })
        .compose(v -> thumbnails(images, index + 1));
  }

  /** After a failure, a fresh consumer rejoins the group and replays from the last commit. */
  private void restart() {
    start();
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.close();
  }
}
