package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.worker.engine.CancelSignal;
import ai.pingvas.worker.engine.Engine;
import ai.pingvas.worker.engine.EngineException;
import ai.pingvas.worker.engine.ModelLru;
import ai.pingvas.worker.engine.ModelSizes;
import ai.pingvas.worker.engine.invokeai.Txt2ImgGraph.LoraUse;
import ai.pingvas.worker.engine.invokeai.Txt2ImgGraph.ModelRef;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders jobs on a co-located InvokeAI through its own API: resolves (or installs) the models,
 * enqueues a text-to-image batch, follows it by socket.io events with queue-item polling as the
 * safety net (and the only source when the socket is down), turns progress into steps with
 * InvokeAI's latent previews, fetches the images and cancels through InvokeAI's cancel endpoint.
 *
 * <p>Loaded models are tracked in a VRAM-bounded LRU. InvokeAI loads lazily and has no per-model
 * unload, so when the next model does not fit the engine empties InvokeAI's model cache first;
 * after each job the LRU keeps only what InvokeAI's cache stats still list.
 */
public final class InvokeAiEngine implements Engine {
  private static final Logger LOG = LoggerFactory.getLogger(InvokeAiEngine.class);

  private final Vertx vertx;
  private final InvokeAiSettings settings;
  private final InvokeAiClient client;
  private final InvokeAiModels models;
  private final ModelLru lru;
  private final ModelSizes sizes;
  private final Map<Long, InvokeAiRun> runs = new ConcurrentHashMap<>();
  private SocketIoClient events;

  public InvokeAiEngine(Vertx vertx, InvokeAiSettings settings, ModelDownloads downloads, ModelLru lru,
      ModelSizes sizes, MeterRegistry registry) {
    this.vertx = vertx;
    this.settings = settings;
    this.client = new InvokeAiClient(vertx, settings.url(), settings.queueId(), settings.requestTimeout().toMillis());
    this.models = new InvokeAiModels(vertx, client, settings.sources(), downloads,
        settings.installTimeout().toMillis(), registry);
    this.lru = lru;
    this.sizes = sizes;
  }

  /** Connects the event stream and logs InvokeAI's version; InvokeAI being down is not fatal (jobs fail and retry). */
  public Future<Void> start() {
    if (settings.events()) {
      events = new SocketIoClient(vertx, settings.url(), settings.queueId(), this::onEvent);
      events.start();
    }
    return client.version()
        .onSuccess(v -> LOG.atInfo().addKeyValue("url", settings.url()).addKeyValue("version", v).log("InvokeAI found"))
        .onFailure(err -> LOG.atWarn().addKeyValue("url", settings.url()).addKeyValue("error", err.getMessage())
            .log("InvokeAI is not answering yet; jobs fail (and are retried) until it does"))
        .<Void>mapEmpty().otherwiseEmpty();
  }

  @Override
  public String name() {
    return "invokeai";
  }

  @Override
  public List<String> modelsLoaded() {
    return lru.models();
  }

  @Override
  public Future<List<RenderedImage>> generate(JobSpec job, StepListener listener, CancelSignal cancel) {
    Future<ModelRef> main = models.resolve(job.model(), "main", job.modelSources().get(job.model()));
    List<Future<ModelRef>> loraRefs = job.loras().stream()
        .map(l -> models.resolve(l.name(), "lora", job.modelSources().get(l.name()))).toList();
    // resolving may mean installing (minutes): a cancel ends the attempt, and frees its slot, at
    // once; the install itself goes on and the next job of the model finds it
    Promise<Void> resolved = Promise.promise();
    Future.all(main, Future.all(loraRefs)).onComplete(ar -> {
      if (ar.succeeded()) {
        resolved.tryComplete();
      } else {
        resolved.tryFail(ar.cause());
      }
    });
    cancel.onCancel(() -> resolved.tryFail(EngineException.canceled()));
    return resolved.future()
        .compose(all -> {
          cancel.check();
          List<LoraUse> loras = new ArrayList<>();
          for (int i = 0; i < loraRefs.size(); i++) {
            loras.add(new LoraUse(loraRefs.get(i).result(), job.loras().get(i).weight()));
          }
          JsonObject batch = Txt2ImgGraph.batch(job, main.result(), loras);
          return makeRoom(job).compose(v -> enqueue(job, batch, listener, cancel));
        })
        .compose(run -> run.result().onComplete(ar -> run.items().forEach(runs::remove)))
        .onSuccess(images -> {
          lru.use(job.model(), vramOf(job.model()));
          job.loras().forEach(l -> lru.use(l.name(), vramOf(l.name())));
          reconcileLoaded();
        })
        .recover(err -> {
          EngineException e = asEngineError(err, "InvokeAI failed the job");
          if (e.code().equals("model_unavailable")) {
            models.forget(job.model());
            job.loras().forEach(l -> models.forget(l.name()));
          }
          return Future.failedFuture(e);
        });
  }

  /** InvokeAI cannot unload one model: if the job's model will not fit beside the others, empty its cache first. */
  private Future<Void> makeRoom(JobSpec job) {
    if (!lru.wouldEvict(job.model(), vramOf(job.model()))) {
      return Future.succeededFuture();
    }
    LOG.atInfo().addKeyValue("model", job.model()).addKeyValue("loaded", lru.models())
        .log("VRAM budget reached: emptying InvokeAI's model cache");
    return client.emptyModelCache().onSuccess(v -> lru.clear()).otherwiseEmpty();
  }

  private Future<InvokeAiRun> enqueue(JobSpec job, JsonObject batch, StepListener listener, CancelSignal cancel) {
    return client.enqueueBatch(batch).recover(err -> {
      if (err instanceof InvokeAiException e && e.status() / 100 == 4) {
        return Future.failedFuture(err); // refused: nothing was enqueued
      }
      // No answer (a timeout, a reset, a 5xx): InvokeAI may have taken the batch anyway, and its
      // sessions would render with nobody to collect them, ahead of the next job. Cancel by our id.
      String batchId = batch.getString("batch_id");
      LOG.atWarn().addKeyValue("job_id", job.jobId()).addKeyValue("batch_id", batchId)
          .addKeyValue("error", err.getMessage()).log("enqueue got no answer; canceling its batch in case it was taken");
      return client.cancelBatch(batchId).otherwiseEmpty().compose(v -> Future.failedFuture(err));
    }).compose(result -> {
      List<Long> items = new ArrayList<>();
      result.getJsonArray("item_ids").forEach(id -> items.add(((Number) id).longValue()));
      items.sort(null);
      String batchId = result.getJsonObject("batch").getString("batch_id");
      if (result.getInteger("enqueued", 0) < result.getInteger("requested", 1)) {
        // Queue full: InvokeAI took fewer sessions than asked (maybe none) and still answered 200.
        return client.cancelBatch(batchId).otherwiseEmpty().compose(v -> Future.failedFuture(new EngineException(
            "engine_busy", "InvokeAI's queue is full (" + result.getInteger("enqueued") + " of "
            + result.getInteger("requested") + " sessions enqueued)", true)));
      }
      InvokeAiRun run = new InvokeAiRun(vertx, client, job, items, settings.pollInterval().toMillis(),
          settings.unreachableTimeout().toMillis(), () -> events != null && events.connected(), listener);
      items.forEach(id -> runs.put(id, run));
      run.start(cancel);
      return Future.succeededFuture(run);
    });
  }

  private void onEvent(String name, JsonObject payload) {
    Object itemId = payload.getValue("item_id");
    if (itemId instanceof Number n) {
      InvokeAiRun run = runs.get(n.longValue());
      if (run != null) {
        run.onEvent(name, payload);
      }
    }
  }

  /** After a job: keep in the LRU only the models InvokeAI's cache still holds (when it reports stats). */
  private void reconcileLoaded() {
    client.cacheStats().onSuccess(stats -> {
      if (stats == null || !(stats.getValue("loaded_model_sizes") instanceof JsonObject sizes) || sizes.isEmpty()) {
        return;
      }
      Set<String> names = new HashSet<>();
      for (String cacheKey : sizes.fieldNames()) {
        int colon = cacheKey.indexOf(':');
        String name = models.nameOfKey(colon < 0 ? cacheKey : cacheKey.substring(0, colon));
        if (name != null) {
          names.add(name);
        }
      }
      lru.retain(names);
    });
  }

  private int vramOf(String model) {
    Integer configured = sizes.configured(model);
    if (configured != null) {
      return configured;
    }
    int fileMb = models.fileSizeMb(model);
    return fileMb > 0 ? fileMb : sizes.of(model);
  }

  static EngineException asEngineError(Throwable err, String what) {
    if (err instanceof EngineException e) {
      return e;
    }
    if (err instanceof InvokeAiException e) {
      if (e.status() == 422) {
        return new EngineException("invalid_params", "InvokeAI refused the job: " + e.getMessage(), false, e);
      }
      if (e.status() == 409) {
        return new EngineException("engine_busy", "InvokeAI is busy: " + e.getMessage(), true, e);
      }
      return new EngineException("engine_error", what + ": " + e.getMessage(), true, e);
    }
    return new EngineException("engine_unavailable", what + ": InvokeAI unreachable (" + err.getMessage() + ")", true,
        err);
  }

  @Override
  public Future<Void> close() {
    if (events != null) {
      events.close();
    }
    client.close();
    return Future.succeededFuture();
  }
}
