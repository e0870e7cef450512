package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.protocol.JobSpec;
import ai.pingvas.worker.engine.CancelSignal;
import ai.pingvas.worker.engine.Engine.RenderedImage;
import ai.pingvas.worker.engine.Engine.StepListener;
import ai.pingvas.worker.engine.EngineException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's queue items on InvokeAI, followed to the end on one Vert.x context: socket.io events
 * when they flow, and polling of {@code GET /api/v1/queue/{queue}/i/{item}} always (slowly while
 * events flow, every {@code poll-interval} when they do not). An item that InvokeAI cancels on its
 * own (it does so to in-progress items when it restarts) or forgets (404) fails the attempt as
 * retryable, as does InvokeAI staying unreachable past {@code unreachable-timeout}.
 */
final class InvokeAiRun {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "canceled");
  /** Tries of a cancel before giving up (the last ~8 s after the first). */
  static final int CANCEL_ATTEMPTS = 5;
  private static final Logger LOG = LoggerFactory.getLogger(InvokeAiRun.class);
  private static final int MAX_PREVIEW = 256 * 1024;

  private final Vertx vertx;
  private final Context context;
  private final InvokeAiClient client;
  private final JobSpec job;
  private final List<Long> items;
  private final long pollMs;
  private final long unreachableMs;
  private final BooleanSupplier eventsLive;
  private final StepListener listener;
  private final Promise<List<RenderedImage>> done = Promise.promise();
  private final Map<Long, String> status = new HashMap<>();
  private final Map<Long, Double> fraction = new HashMap<>();
  private final Map<Long, String> imageNames = new HashMap<>();
  private final Set<Long> fetching = new HashSet<>();
  private final RenderedImage[] images;
  private boolean started;
  private boolean canceledByUs;
  private int lastStep;
  private long lastReachableMs = System.currentTimeMillis();
  private long pollTimer = -1;

  InvokeAiRun(Vertx vertx, InvokeAiClient client, JobSpec job, List<Long> items, long pollMs, long unreachableMs,
      BooleanSupplier eventsLive, StepListener listener) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.client = client;
    this.job = job;
    this.items = List.copyOf(items);
    this.pollMs = Math.max(50, pollMs);
    this.unreachableMs = unreachableMs;
    this.eventsLive = eventsLive;
    this.listener = listener;
    this.images = new RenderedImage[items.size()];
  }

  List<Long> items() {
    return items;
  }

  Future<List<RenderedImage>> result() {
    return done.future();
  }

  void start(CancelSignal cancel) {
    cancel.onCancel(() -> context.runOnContext(v -> cancelAll()));
    context.runOnContext(v -> poll());
  }

  /** An InvokeAI event about one of our items (any thread). */
  void onEvent(String name, JsonObject payload) {
    context.runOnContext(v -> handle(name, payload));
  }

  private void handle(String name, JsonObject event) {
    long item = event.getLong("item_id");
    switch (name) {
      case "queue_item_status_changed" -> onStatus(item, event.getString("status"), event);
      case "invocation_started" -> markStarted();
      case "invocation_progress" -> {
        Number percentage = event.getNumber("percentage");
        if (percentage != null) {
          fraction.put(item, Math.min(1.0, Math.max(0.0, percentage.doubleValue())));
          progress(preview(event.getJsonObject("image")));
        }
      }
      case "invocation_complete" -> {
        JsonObject result = event.getJsonObject("result");
        if (Txt2ImgGraph.IMAGE_NODE.equals(event.getString("invocation_source_id")) && result != null
            && result.getJsonObject("image") != null) {
          imageNames.put(item, result.getJsonObject("image").getString("image_name"));
        }
      }
      default -> {
      }
    }
  }

  private void onStatus(long item, String state, JsonObject details) {
    if (done.future().isComplete() || state == null) {
      return;
    }
    status.put(item, state);
    switch (state) {
      case "in_progress" -> markStarted();
      case "completed" -> {
        fraction.put(item, 1.0);
        if (fetching.add(item)) {
          fetch(item, details);
        }
      }
      case "failed" -> fail(failure(details));
      case "canceled" -> fail(canceledByUs ? EngineException.canceled() : new EngineException("engine_restarted",
          "InvokeAI canceled queue item " + item + " on its own (it cancels running items when it restarts)", true));
      default -> {
      }
    }
  }

  private void markStarted() {
    if (!started) {
      started = true;
      listener.onStep(0, job.steps(), null);
    }
  }

  private void progress(String preview) {
    double total = 0;
    for (long item : items) {
      total += fraction.getOrDefault(item, 0.0);
    }
    int step = (int) Math.floor(total / items.size() * job.steps());
    if (step > lastStep && step < job.steps()) {
      markStarted();
      lastStep = step;
      listener.onStep(step, job.steps(), preview);
    }
  }

  private static String preview(JsonObject image) {
    String url = image == null ? null : image.getString("dataURL");
    return url != null && url.startsWith("data:image/") && url.length() < MAX_PREVIEW ? url : null;
  }

  private void fetch(long item, JsonObject details) {
    String known = imageNames.getOrDefault(item, imageOf(details));
    Future<String> name = known != null ? Future.succeededFuture(known) : client.queueItem(item).map(InvokeAiRun::imageOf);
    name.compose(image -> image == null
            ? Future.failedFuture(new EngineException("engine_error", "InvokeAI completed queue item " + item
                + " without an image output", true))
            : client.imageFull(image))
        // the size is read inside the chain: thrown from onSuccess, a short image left the run never ending
        .map(png -> {
          int index = items.indexOf(item);
          int[] size = pngSize(png);
          return new RenderedImage(index, png, size[0], size[1], job.seed() + index);
        })
        .onSuccess(rendered -> {
          images[rendered.index()] = rendered;
          if (Arrays.stream(images).allMatch(java.util.Objects::nonNull)) {
            finish();
          }
        })
        .onFailure(err -> fail(InvokeAiEngine.asEngineError(err, "cannot fetch the image of queue item " + item)));
  }

  /** The image of a completed item: the result of the prepared copy of our image node. */
  static String imageOf(JsonObject item) {
    JsonObject session = item == null ? null : item.getJsonObject("session");
    if (session == null) {
      return null;
    }
    JsonObject results = session.getJsonObject("results", new JsonObject());
    JsonArray prepared = session.getJsonObject("source_prepared_mapping", new JsonObject())
        .getJsonArray(Txt2ImgGraph.IMAGE_NODE);
    if (prepared != null && !prepared.isEmpty()) {
      JsonObject output = results.getJsonObject(prepared.getString(0));
      if (output != null && output.getJsonObject("image") != null) {
        return output.getJsonObject("image").getString("image_name");
      }
    }
    for (String id : results.fieldNames()) {
      JsonObject output = results.getJsonObject(id);
      if ("image_output".equals(output.getString("type")) && output.getJsonObject("image") != null) {
        return output.getJsonObject("image").getString("image_name");
      }
    }
    return null;
  }

  private EngineException failure(JsonObject item) {
    String type = item.getString("error_type", "Error");
    String message = item.getString("error_message", "generation failed");
    String text = "InvokeAI: " + type + ": " + message;
    if (message.contains("Unknown model") || message.contains("Unkown lora") || message.contains("Unknown lora")) {
      return new EngineException("model_unavailable", text, true);
    }
    if (type.contains("OutOfMemory")) {
      return new EngineException("out_of_memory", text, true);
    }
    return new EngineException("generation_failed", text, true);
  }

  private void poll() {
    pollTimer = -1;
    if (done.future().isComplete()) {
      return;
    }
    List<Long> open = items.stream().filter(i -> !TERMINAL.contains(status.getOrDefault(i, "pending"))).toList();
    List<Future<JsonObject>> checks = open.stream().map(item -> client.queueItem(item).onComplete(ar -> {
      if (ar.succeeded()) {
        lastReachableMs = System.currentTimeMillis();
        onStatus(item, ar.result().getString("status"), ar.result());
      } else if (ar.cause() instanceof InvokeAiException e && e.status() == 404) {
        fail(new EngineException("engine_restarted", "InvokeAI no longer knows queue item " + item
            + " (restarted with a cleared queue?)", true));
      } else if (System.currentTimeMillis() - lastReachableMs > unreachableMs) {
        fail(new EngineException("engine_unavailable", "InvokeAI unreachable for " + unreachableMs / 1000
            + " s while running the job: " + ar.cause().getMessage(), true));
      }
    })).toList();
    Future.join(checks).onComplete(ar -> {
      if (!done.future().isComplete()) {
        pollTimer = vertx.setTimer(eventsLive.getAsBoolean() ? pollMs * 4 : pollMs, id -> poll());
      }
    });
  }

  private void cancelAll() {
    if (done.future().isComplete()) {
      return;
    }
    canceledByUs = true;
    cancelOpenItems();
    fail(EngineException.canceled());
  }

  private void cancelOpenItems() {
    for (long item : items) {
      if (!TERMINAL.contains(status.getOrDefault(item, "pending"))) {
        cancelItem(item, 1);
      }
    }
  }

  /**
   * Asks InvokeAI to cancel an item, again on failure (a timeout, a 5xx, the connection lost), 0.5 s,
   * 1 s, 2 s, ... apart: the attempt already ended here and its slot is free, so an item left
   * running would render a whole job nobody collects, on the GPU the next job waits for. An item
   * InvokeAI no longer has (404) needs nothing more.
   */
  private void cancelItem(long item, int attempt) {
    client.cancel(item).onFailure(err -> {
      if (err instanceof InvokeAiException e && e.status() == 404) {
        return;
      }
      if (attempt >= CANCEL_ATTEMPTS) {
        LOG.atWarn().addKeyValue("item_id", item).addKeyValue("job_id", job.jobId())
            .addKeyValue("error", err.getMessage())
            .log("could not cancel an InvokeAI queue item; it may run to its end");
        return;
      }
      LOG.atInfo().addKeyValue("item_id", item).addKeyValue("attempt", attempt).addKeyValue("error", err.getMessage())
          .log("canceling an InvokeAI queue item failed; retrying");
      vertx.setTimer(500L << (attempt - 1), id -> cancelItem(item, attempt + 1));
    });
  }

  private void fail(EngineException e) {
    if (done.tryFail(e)) {
      stopPolling();
      if (!canceledByUs) {
        cancelOpenItems();
      }
    }
  }

  private void finish() {
    if (done.tryComplete(List.of(images))) {
      stopPolling();
    }
  }

  private void stopPolling() {
    if (pollTimer >= 0) {
      vertx.cancelTimer(pollTimer);
      pollTimer = -1;
    }
  }

  /** Width and height from a PNG's IHDR chunk. */
  static int[] pngSize(byte[] png) {
    if (png.length < 24) {
      throw new EngineException("engine_error", "InvokeAI returned an image of " + png.length + " bytes", true);
    }
    ByteBuffer ihdr = ByteBuffer.wrap(png, 16, 8);
    return new int[] {ihdr.getInt(), ihdr.getInt()};
  }
}
