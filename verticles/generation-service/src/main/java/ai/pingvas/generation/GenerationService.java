package ai.pingvas.generation;

import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.dispatch.GalleryClient;
import ai.pingvas.generation.dispatch.JanitorVerticle;
import ai.pingvas.generation.dispatch.UploadSigner;
import ai.pingvas.generation.domain.DispatchPolicy;
import ai.pingvas.generation.events.EventBuffer;
import ai.pingvas.generation.events.JobEventsVerticle;
import ai.pingvas.generation.events.OutboxRelayVerticle;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.generation.http.GenerationApiVerticle;
import ai.pingvas.generation.billing.CreditReservationCheck;
import ai.pingvas.generation.http.SubmitCheck;
import ai.pingvas.generation.http.TierLimitCheck;
import ai.pingvas.generation.models.ModelCatalog;
import ai.pingvas.generation.models.ModelSubmitCheck;
import ai.pingvas.generation.models.WorkerStateVerticle;
import ai.pingvas.generation.quota.StorageQuotaCheck;
import ai.pingvas.generation.store.PgJobStore;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.ChainAuthenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.platform.launch.ServiceFoundation;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.platform.ratelimit.SharedRateLimiter;
import ai.pingvas.platform.tiers.TierCatalog;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * generation-service: the job router. Wires Postgres, Kafka, S3 presigning and the verticles:
 * events fan-out, dispatcher, janitor, outbox relay and the HTTP/WebSocket API (deployed last so
 * it is undeployed first on shutdown and stops accepting before the rest stops).
 */
public final class GenerationService {
  private static final Logger LOG = LoggerFactory.getLogger(GenerationService.class);
  public static final String NAME = "generation-service";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/generation-defaults.yaml", "db/generation");

  private GenerationService() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, GenerationService::start);
  }

  /** Starts the service in a runtime; completes when it listens. */
  public static Future<Void> start(ServiceRuntime runtime) {
    Vertx vertx = runtime.vertx();
    Config config = runtime.config();
    GenerationSettings settings = GenerationSettings.from(config);
    KafkaSettings kafka = KafkaSettings.fromConfig(config, settings.routerId());
    String topic = config.string("router.events-topic");
    DispatcherVerticle.registerCodecs(vertx);

    return ServiceFoundation.prepare(runtime, DESCRIPTOR, "openapi/generation.yaml", kafka, List.of(topic))
        .compose(foundation -> {
          Pool pool = foundation.pool();
          Contracts.Loaded loaded = foundation.contract();
          KafkaProducer<String, String> producer = KafkaProducer.create(vertx, kafka.producer());
          // every send handles its own failure (outbox rows wait, worker state is sent again); without
          // a handler the client would also log each one as an "Unhandled exception" ERROR
          producer.exceptionHandler(err -> LOG.debug("kafka send failed: {}", err.toString()));
          runtime.onClose(producer::close);

          OutboxRelayVerticle relay = new OutboxRelayVerticle(pool, foundation.database().connectOptions(),
              foundation.watch(), producer, topic, runtime.registry());
          PgJobStore store = new PgJobStore(pool, relay::written);
          // JWTs verified locally from user-service's JWK Set, API keys introspected by user-service.
          Authenticator authenticator = ChainAuthenticator.fromConfig(vertx, config);
          UploadSigner signer = new UploadSigner(config);
          runtime.onClose(() -> {
            signer.close();
            return Future.succeededFuture();
          });
          // off the event loop; a failure here is logged and retried at the first dispatch
          vertx.executeBlocking(() -> {
            signer.prime();
            return null;
          }).onFailure(err -> LOG.warn("storage credentials not resolved yet: {}", err.toString()));
          GalleryClient gallery = new GalleryClient(vertx, config.string("gallery.url"),
              config.optionalString("auth.internal-token"), config.bool("gallery.verify"),
              config.string("http.public-url"));
          // The model registry's copy for the model check; model-service down never blocks start-up.
          ModelCatalog models = new ModelCatalog(vertx, config.string("models.url"),
              config.optionalString("auth.internal-token"), config.duration("models.request-timeout"),
              config.duration("models.miss-refresh-min"));
          models.startRefreshing(config.duration("models.refresh-interval"));
          runtime.onClose(() -> {
            models.close();
            return Future.succeededFuture();
          });
          // Checks every submission passes before it is stored, in order (tier limits, models, credits).
          List<SubmitCheck> submitChecks = new ArrayList<>();
          // requests per minute counted across replicas: each syncs its counts through Postgres
          SharedRateLimiter rates = new SharedRateLimiter(pool, "submissions", settings.routerId(),
              Duration.ofMinutes(1), 100_000);
          submitChecks.add(new TierLimitCheck(TierCatalog.fromConfig(vertx, config), rates));
          submitChecks.add(new ModelSubmitCheck(models, runtime.registry()));
          submitChecks.add(new StorageQuotaCheck(vertx, config.string("gallery.url"),
              config.optionalString("auth.internal-token"), config.duration("gallery.quota-cache-ttl")));
          // last: only a submission every other check accepted holds credits
          if (config.bool("billing.enabled")) {
            submitChecks.add(new CreditReservationCheck(vertx, config.string("billing.url"),
                config.optionalString("auth.internal-token")));
          }
          StreamHub hub = new StreamHub(runtime.registry());
          PositionBoard board = new PositionBoard();
          EventBuffer buffer = new EventBuffer(config.integer("stream.resume-buffer-jobs"),
              config.integer("stream.resume-buffer-mib") * 1024L * 1024L);

          Future<String> chain = vertx.deployVerticle(new JobEventsVerticle(kafka, topic,
                  config.integer("router.events-fetch-min-bytes"), config.duration("router.events-fetch-max-wait"),
                  hub, board, buffer,
                  runtime.registry()))
              .compose(id -> vertx.deployVerticle(new DispatcherVerticle(settings.dispatch(), store, signer, gallery,
                  hub, board, runtime.registry(), DispatchPolicy.named(config.string("scheduler.policy"),
                  settings.dispatch().policy()), models)))
              .compose(id -> vertx.deployVerticle(new JanitorVerticle(store, settings.janitor())))
              .compose(id -> vertx.deployVerticle(new WorkerStateVerticle(kafka, producer,
                  config.string("models.worker-topic"), settings.routerId(), config.duration("models.publish-interval"))))
              .compose(id -> vertx.deployVerticle(relay))
              .compose(id -> vertx.deployVerticle(SharedRateLimiter.syncing(config.duration("ratelimit.sync-interval"),
                  rates)))
              .compose(id -> vertx.deployVerticle(() -> new GenerationApiVerticle(runtime, store, authenticator,
                  hub, buffer, loaded, submitChecks, settings.routerId()),
                  new DeploymentOptions().setInstances(config.integer("http.instances"))));
          return chain.<Void>mapEmpty();
        });
  }

}
