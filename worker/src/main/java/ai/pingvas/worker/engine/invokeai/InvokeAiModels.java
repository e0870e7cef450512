package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.worker.engine.EngineException;
import ai.pingvas.worker.engine.invokeai.Txt2ImgGraph.ModelRef;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Our model names to InvokeAI's installed models, through its model manager: a model is found by
 * {@code name} among {@code GET /api/v2/models/?model_type=}; a missing one is installed
 * ({@code POST /api/v2/models/install}, polled until completed) under our name, from the source
 * {@code invokeai.model-sources} names for it, else from where the registry keeps it (the job's
 * {@code model_sources}, an {@code s3://} object fetched through a presigned URL). One install per
 * model at a time; answers are cached until InvokeAI says a key is unknown.
 */
final class InvokeAiModels {
  private static final Logger LOG = LoggerFactory.getLogger(InvokeAiModels.class);

  private final Vertx vertx;
  private final InvokeAiClient client;
  private final Map<String, String> sources;
  private final ModelDownloads downloads;
  private final long installTimeoutMs;
  private final MeterRegistry registry;
  private final Timer installTime;
  private final Map<String, Future<ModelRef>> resolving = new ConcurrentHashMap<>();
  private final Map<String, ModelRef> known = new ConcurrentHashMap<>();
  private final Map<String, Long> fileSizes = new ConcurrentHashMap<>();

  InvokeAiModels(Vertx vertx, InvokeAiClient client, Map<String, String> sources, ModelDownloads downloads,
      long installTimeoutMs, MeterRegistry registry) {
    this.vertx = vertx;
    this.client = client;
    this.sources = sources;
    this.downloads = downloads;
    this.installTimeoutMs = installTimeoutMs;
    this.registry = registry;
    this.installTime = Timer.builder("pingvas_worker_model_install_seconds")
        .description("time to install a model into InvokeAI (download included), completed installs")
        .register(registry);
  }

  /**
   * The installed model of that name and type ({@code main} or {@code lora}), installing it if
   * needed; {@code registrySource} is where the registry keeps it (null when the router sent none).
   */
  Future<ModelRef> resolve(String name, String type, String registrySource) {
    ModelRef hit = known.get(type + ":" + name);
    if (hit != null) {
      return Future.succeededFuture(hit);
    }
    return resolving.computeIfAbsent(type + ":" + name, k -> find(name, type).compose(found -> found != null
        ? Future.succeededFuture(found) : install(name, type, registrySource)).onComplete(ar -> resolving.remove(k)));
  }

  /** Forgets what we knew of a model (InvokeAI said its key is unknown: deleted or reinstalled). */
  void forget(String name) {
    known.keySet().removeIf(k -> k.endsWith(":" + name));
  }

  /** Our name of an InvokeAI model key, if we resolved it. */
  String nameOfKey(String key) {
    return known.values().stream().filter(r -> r.key().equals(key)).map(ModelRef::name).findFirst().orElse(null);
  }

  /** The model's size on disk in MB as InvokeAI reported it (0 when unknown). */
  int fileSizeMb(String name) {
    return (int) (fileSizes.getOrDefault(name, 0L) / (1024 * 1024));
  }

  private Future<ModelRef> find(String name, String type) {
    return client.models(type).map(models -> {
      for (JsonObject config : models) {
        if (name.equals(config.getString("name"))) {
          return remember(name, type, config);
        }
      }
      return null;
    });
  }

  private ModelRef remember(String name, String type, JsonObject config) {
    ModelRef ref = ModelRef.of(config);
    known.put(type + ":" + name, ref);
    Number size = config.getNumber("file_size");
    if (size != null) {
      fileSizes.put(name, size.longValue());
    }
    return ref;
  }

  private Future<ModelRef> install(String name, String type, String registrySource) {
    String source = sources.getOrDefault(name, registrySource);
    if (source == null) {
      return Future.failedFuture(new EngineException("model_unavailable", "InvokeAI has no " + type + " model named '"
          + name + "', the registry keeps no source for it and invokeai.model-sources names none", true));
    }
    String from = sources.containsKey(name) ? "configured" : "registry";
    LOG.atInfo().addKeyValue("model", name).addKeyValue("source", source).addKeyValue("from", from)
        .log("installing a model into InvokeAI");
    long started = System.nanoTime();
    long deadline = System.currentTimeMillis() + installTimeoutMs;
    return downloads.fetchable(source)
        .recover(err -> Future.failedFuture(new EngineException("model_install_failed", "cannot make a download URL "
            + "for '" + name + "' from " + source + ": " + err.getMessage(), true, err)))
        .compose(fetchable -> client.install(fetchable, name)
            .recover(err -> Future.failedFuture(new EngineException("model_install_failed", "InvokeAI refused to "
                + "install '" + name + "' from " + source + ": " + ModelDownloads.redact(err.getMessage()), true, err))))
        .compose(job -> awaitInstall(job, name, type, source, deadline))
        .onComplete(ar -> {
          long took = System.nanoTime() - started;
          Counter.builder("pingvas_worker_model_installs_total").description("model installs into InvokeAI, by "
              + "where the source came from (registry: the job's model_sources; configured: invokeai.model-sources)")
              .tag("from", from).tag("outcome", ar.succeeded() ? "completed" : "failed").register(registry).increment();
          if (ar.succeeded()) {
            installTime.record(took, TimeUnit.NANOSECONDS);
            LOG.atInfo().addKeyValue("model", name).addKeyValue("seconds", took / 1_000_000_000.0)
                .log("model installed");
          }
        });
  }

  private Future<ModelRef> awaitInstall(JsonObject job, String name, String type, String source, long deadline) {
    String status = job.getString("status");
    if ("completed".equals(status)) {
      JsonObject config = job.getJsonObject("config_out");
      return config != null ? Future.succeededFuture(remember(name, type, config))
          : find(name, type).compose(found -> found != null ? Future.succeededFuture(found)
              : Future.failedFuture(new EngineException("model_install_failed", "InvokeAI installed '" + name
                  + "' but does not list it", true)));
    }
    if ("error".equals(status) || "cancelled".equals(status)) {
      // InvokeAI: error_reason is the exception's class, error its text (a download's names the URL)
      String reason = job.getString("error_reason");
      String error = job.getString("error");
      String why = reason == null ? String.valueOf(error) : error == null ? reason : reason + ": " + error;
      return Future.failedFuture(new EngineException("model_install_failed", "installing '" + name + "' from "
          + source + " ended " + status + ": " + ModelDownloads.redact(why), true));
    }
    if (System.currentTimeMillis() > deadline) {
      return Future.failedFuture(new EngineException("model_install_failed", "installing '" + name
          + "' did not finish in time (invokeai.install-timeout)", true));
    }
    return vertx.timer(500).compose(v -> client.installJob(job.getLong("id")))
        .compose(next -> awaitInstall(next, name, type, source, deadline));
  }
}
