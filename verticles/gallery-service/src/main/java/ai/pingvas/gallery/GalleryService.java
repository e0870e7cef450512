package ai.pingvas.gallery;

import ai.pingvas.gallery.events.ImageIngestVerticle;
import ai.pingvas.gallery.events.LateUploadSweeperVerticle;
import ai.pingvas.gallery.events.TombstoneSweeperVerticle;
import ai.pingvas.gallery.http.GalleryApiVerticle;
import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.storage.Thumbnailer;
import ai.pingvas.gallery.store.PgImageStore;
import ai.pingvas.platform.auth.ChainAuthenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.platform.launch.ServiceFoundation;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.platform.tiers.TierCatalog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;

/** gallery-service: the image store (S3 objects, Postgres metadata, verification, image API). */
public final class GalleryService {
  public static final String NAME = "gallery-service";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/gallery-defaults.yaml", "db/gallery");

  private GalleryService() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, GalleryService::start);
  }

  public static Future<Void> start(ServiceRuntime runtime) {
    Vertx vertx = runtime.vertx();
    Config config = runtime.config();
    GallerySettings settings = GallerySettings.from(config);
    KafkaSettings kafka = KafkaSettings.fromConfig(config, NAME);
    String topic = config.string("events.topic");
    return ServiceFoundation.prepare(runtime, DESCRIPTOR, "openapi/gallery.yaml", kafka, List.of(topic))
        .compose(foundation -> {
          ObjectStore objects = ObjectStore.fromConfig(config);
          runtime.onClose(() -> {
            objects.close();
            return Future.succeededFuture();
          });
          PgImageStore store = new PgImageStore(foundation.pool());
          // JWTs verified locally from user-service's JWK Set, API keys introspected by user-service.
          ChainAuthenticator authenticator = ChainAuthenticator.fromConfig(vertx, config);
          Thumbnailer thumbnailer = new Thumbnailer(settings.thumbnailSize(), settings.thumbnailQuality());
          return vertx.deployVerticle(new ImageIngestVerticle(kafka, topic, config.string("events.group"), store,
                  objects, thumbnailer, settings.recheckAfter(), runtime.registry()))
              .compose(id -> vertx.deployVerticle(new LateUploadSweeperVerticle(store, objects,
                  settings.recheckSweepEvery(), runtime.registry())))
              .compose(id -> vertx.deployVerticle(new TombstoneSweeperVerticle(store, settings.tombstoneTtl(),
                  settings.tombstoneSweepEvery())))
              .compose(id -> vertx.deployVerticle(new GalleryApiVerticle(runtime, store, objects,
                  authenticator, TierCatalog.fromConfig(vertx, config), foundation.contract())))
              .<Void>mapEmpty();
        });
  }
}
