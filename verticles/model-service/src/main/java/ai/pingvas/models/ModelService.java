package ai.pingvas.models;

import ai.pingvas.models.domain.Model;
import ai.pingvas.models.events.WorkerEventsVerticle;
import ai.pingvas.models.http.ModelApiVerticle;
import ai.pingvas.models.storage.SourceCheck;
import ai.pingvas.models.store.ModelStore;
import ai.pingvas.models.store.PgModelStore;
import ai.pingvas.platform.auth.ChainAuthenticator;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.platform.launch.ServiceFoundation;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** model-service: the registry of checkpoints and LoRAs, and which workers hold them. */
public final class ModelService {
  private static final Logger LOG = LoggerFactory.getLogger(ModelService.class);
  public static final String NAME = "model-service";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/model-defaults.yaml", "db/models");

  private ModelService() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, ModelService::start);
  }

  /** Starts the service in a runtime; completes when it listens. */
  public static Future<Void> start(ServiceRuntime runtime) {
    Vertx vertx = runtime.vertx();
    Config config = runtime.config();
    ModelSettings settings = ModelSettings.from(config);
    KafkaSettings kafka = KafkaSettings.fromConfig(config, NAME);
    return ServiceFoundation.prepare(runtime, DESCRIPTOR, "openapi/models.yaml", kafka,
            List.of(settings.workerTopic()))
        .compose(foundation -> {
          ModelStore store = new PgModelStore(foundation.pool());
          // JWTs verified locally from user-service's JWK Set, API keys introspected by user-service.
          ChainAuthenticator authenticator = ChainAuthenticator.fromConfig(vertx, config);
          SourceCheck sources = SourceCheck.fromConfig(config, runtime.registry());
          if (sources != null) {
            runtime.onClose(() -> vertx.executeBlocking(() -> {
              sources.close();
              return null;
            }));
          }
          return seedDevModels(vertx, settings, store)
              .compose(v -> vertx.deployVerticle(new WorkerEventsVerticle(kafka, settings.workerTopic(),
                  settings.workerGroup(), store, settings.holdingTtl(), runtime.registry())))
              .compose(id -> vertx.deployVerticle(new ModelApiVerticle(runtime, store, authenticator, foundation.contract(),
                  settings.holdingTtl(), sources)))
              .<Void>mapEmpty();
        });
  }

  private static Future<Void> seedDevModels(Vertx vertx, ModelSettings settings, ModelStore store) {
    if (!settings.seedDevModels()) {
      return Future.succeededFuture();
    }
    return vertx.fileSystem().readFile("dev-models.yaml").compose(text -> {
      Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(text.toString());
      JsonArray entries = new JsonArray((List<?>) tree);
      List<Model> models = new ArrayList<>();
      for (int i = 0; i < entries.size(); i++) {
        JsonObject entry = entries.getJsonObject(i);
        models.add(Model.fromJson(entry.getString("name"), entry));
      }
      return store.createMissing(models);
    }).onSuccess(created -> LOG.info("dev models ready ({} new)", created)).mapEmpty();
  }
}
