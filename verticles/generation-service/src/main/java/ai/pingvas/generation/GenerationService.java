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
import ai.pingvas.generation.http.SubmitCheck;
import ai.pingvas.generation.models.ModelCatalog;
import ai.pingvas.generation.models.ModelSubmitCheck;
import ai.pingvas.generation.models.WorkerStateVerticle;
import ai.pingvas.generation.quota.StorageQuotaCheck;
import ai.pingvas.generation.store.ApiKeys;
import ai.pingvas.generation.store.PgJobStore;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.db.Database;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Set;
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
    Database database = Database.fromConfig(config);
    KafkaSettings kafka = KafkaSettings.fromConfig(config, settings.routerId());
    String topic = config.string("router.events-topic");
    DispatcherVerticle.registerCodecs(vertx);

    Future<Integer> migrated = config.bool("pg.migrate") ? database.migrate(vertx, "db/generation")
        : Future.succeededFuture(0);
    return migrated.compose(n -> kafka.ensureTopics(vertx, List.of(topic)))
        .compose(v -> Contracts.load(vertx, "openapi/generation.yaml"))
        .compose(loaded -> {
          Pool pool = database.pool(vertx);
          runtime.onClose(pool::close);
          KafkaProducer<String, String> producer = KafkaProducer.create(vertx, kafka.producer());
          runtime.onClose(producer::close);
          KafkaAdminClient admin = KafkaAdminClient.create(vertx, kafka.admin());
          runtime.onClose(admin::close);
          runtime.probes()
              .register("postgres", () -> pool.query("SELECT 1").execute())
              .register("kafka", admin::describeCluster);
          runtime.probes().startRefreshing(1_000);

          PgJobStore store = new PgJobStore(pool);
          ApiKeys apiKeys = new ApiKeys(pool);
          Authenticator authenticator = apiKeys;
          UploadSigner signer = new UploadSigner(config);
          runtime.onClose(() -> {
            signer.close();
            return Future.succeededFuture();
          });
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
          List<SubmitCheck> submitChecks = List.of(new ModelSubmitCheck(models, runtime.registry()),
              new StorageQuotaCheck(vertx, config.string("gallery.url"), config.optionalString("auth.internal-token"),
                  config.duration("gallery.quota-cache-ttl")));
          StreamHub hub = new StreamHub(runtime.registry());
          PositionBoard board = new PositionBoard();
          EventBuffer buffer = new EventBuffer(config.integer("stream.resume-buffer-jobs"));

          Future<String> chain = vertx.deployVerticle(new JobEventsVerticle(kafka, topic, hub, board, buffer,
                  runtime.registry()))
              .compose(id -> vertx.deployVerticle(new DispatcherVerticle(settings.dispatch(), store, signer, gallery,
                  hub, board, runtime.registry(), DispatchPolicy.named(config.string("scheduler.policy"),
                  settings.dispatch().policy()))))
              .compose(id -> vertx.deployVerticle(new JanitorVerticle(store, settings.janitor())))
              .compose(id -> vertx.deployVerticle(new WorkerStateVerticle(kafka, producer,
                  config.string("models.worker-topic"), settings.routerId(), config.duration("models.publish-interval"))))
              .compose(id -> vertx.deployVerticle(new OutboxRelayVerticle(pool, database.connectOptions(), producer,
                  topic, runtime.registry())))
              .compose(id -> seedDevUser(config, apiKeys))
              .compose(v -> vertx.deployVerticle(() -> new GenerationApiVerticle(runtime, store, authenticator,
                  apiKeys, hub, buffer, loaded, submitChecks, settings.routerId()),
                  new DeploymentOptions().setInstances(config.integer("http.instances"))));
          return chain.<Void>mapEmpty();
        });
  }

  private static Future<String> seedDevUser(Config config, ApiKeys apiKeys) {
    if (!config.bool("dev.seed-user")) {
      return Future.succeededFuture();
    }
    String key = config.optionalString("dev.seed-key");
    return apiKeys.issue(GenerationSettings.DEV_USER_ID, "dev", "studio", Set.of("admin"), key)
        .onSuccess(k -> LOG.info("dev user {} is ready", GenerationSettings.DEV_USER_ID));
  }
}
