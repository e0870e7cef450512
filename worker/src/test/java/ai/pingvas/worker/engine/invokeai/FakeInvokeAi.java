package ai.pingvas.worker.engine.invokeai;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * A stand-in for InvokeAI 6.x (the one outside service we cannot run here), following the request
 * and response shapes of its routers and socket.io events as documented in
 * shared/reference/invokeai-api.md: enqueue_batch (with queue-full behaviour), queue items
 * (nulls omitted on GET), cancel, images, model listing/installing, cache endpoints and the
 * socket.io stream over Engine.IO v4. It runs one session at a time like InvokeAI's processor.
 * Error modes: generation errors, unknown model keys at run time, a full queue, a restart that
 * cancels the in-progress item (as InvokeAI does at start-up) and a socket.io that is down.
 */
public final class FakeInvokeAi implements AutoCloseable {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "canceled");
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

  final Vertx vertx = Vertx.vertx();
  public final int port;
  volatile int maxQueueSize = 10_000;
  volatile long stepDelayMs = 5;
  volatile boolean socketEnabled = true;
  volatile boolean processorPaused;
  /** How long an enqueue's answer takes (its sessions are queued at once). */
  volatile long enqueueDelayMs;
  /** Cancels still to fail with a 500 (e.g. the server busy), before they work again. */
  volatile int failCancels;
  volatile String failNextType;
  volatile String failNextMessage;
  /** Serve completed images cut to a few bytes (a broken or truncated file). */
  volatile boolean truncateImages;
  /** Every request as "METHOD path?query" and the JSON bodies of enqueue and install. */
  public final List<String> requests = new CopyOnWriteArrayList<>();
  public final List<JsonObject> batches = new CopyOnWriteArrayList<>();
  public final List<JsonObject> installs = new CopyOnWriteArrayList<>();
  /** URL installs: the URL's path (no query) to the SHA-256 (hex) of the bytes downloaded from it. */
  public final Map<String, String> downloaded = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> models = new LinkedHashMap<>();
  private final Map<Long, JsonObject> items = new LinkedHashMap<>();
  private final Map<String, byte[]> images = new LinkedHashMap<>();
  private final Map<Long, JsonObject> installJobs = new LinkedHashMap<>();
  private final List<ServerWebSocket> sockets = new CopyOnWriteArrayList<>();
  private final Map<String, Long> cache = new LinkedHashMap<>();
  private long nextItem = 1;
  private long nextInstall = 1;
  private Long running;
  private HttpServer server;
  /** Fetches URL sources, as InvokeAI's download queue does. */
  private final HttpClient downloads = vertx.createHttpClient();

  public FakeInvokeAi(int port) {
    this.port = port;
  }

  public FakeInvokeAi start() {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      requests.add(ctx.request().method() + " " + ctx.request().uri());
      ctx.next();
    });
    router.route().handler(BodyHandler.create());
    router.get("/api/v1/app/version").handler(ctx -> json(ctx, 200, new JsonObject().put("version", "6.14.0-alpha")));
    router.post("/api/v1/queue/:queue/enqueue_batch").handler(this::enqueue);
    router.get("/api/v1/queue/:queue/i/:item").handler(this::getItem);
    router.put("/api/v1/queue/:queue/i/:item/cancel").handler(this::cancel);
    router.put("/api/v1/queue/:queue/cancel_by_batch_ids").handler(this::cancelBatches);
    router.get("/api/v1/images/i/:name/full").handler(this::image);
    router.get("/api/v2/models/").handler(this::listModels);
    router.post("/api/v2/models/install").handler(this::install);
    router.get("/api/v2/models/install/:id").handler(this::installJob);
    router.post("/api/v2/models/empty_model_cache").handler(ctx -> {
      synchronized (this) {
        cache.clear();
      }
      ctx.response().putHeader("Content-Type", "application/json").end("null");
    });
    router.get("/api/v2/models/stats").handler(this::stats);
    server = vertx.createHttpServer().webSocketHandler(this::socket).requestHandler(router);
    join(server.listen(port, "127.0.0.1"));
    return this;
  }

  // ---- test controls ----------------------------------------------------------------------

  synchronized FakeInvokeAi withModel(String name, String base, String type) {
    String key = UUID.randomUUID().toString();
    models.put(key, config(key, name, base, type, "/models/" + name));
    return this;
  }

  /** The status of the latest install of a model by our name (null if none), as its last poll answered. */
  public synchronized String installStatus(String name) {
    String status = null;
    for (JsonObject job : installJobs.values()) {
      if (name.equals(job.getJsonObject("config_in").getString("name"))) {
        status = job.getString("status");
      }
    }
    return status;
  }

  synchronized String keyOf(String name) {
    return models.values().stream().filter(m -> m.getString("name").equals(name)).map(m -> m.getString("key"))
        .findFirst().orElse(null);
  }

  /** Deletes a model (as an admin would); queued sessions naming it fail with "Unknown model". */
  synchronized void deleteModel(String name) {
    models.values().removeIf(m -> m.getString("name").equals(name));
  }

  /** socket.io goes away: connected clients are dropped and new ones refused. */
  void disableSocket() {
    socketEnabled = false;
    sockets.forEach(ServerWebSocket::close);
  }

  synchronized void failNext(String type, String message) {
    failNextType = type;
    failNextMessage = message;
  }

  synchronized JsonObject item(long id) {
    JsonObject item = items.get(id);
    return item == null ? null : item.copy();
  }

  synchronized long pending() {
    return items.values().stream().filter(i -> i.getString("status").equals("pending")).count();
  }

  /** InvokeAI restarting: sockets and connections drop, in-progress items become canceled, no events. */
  void restart(long downMs) {
    synchronized (this) {
      running = null;
      items.values().forEach(i -> {
        if (i.getString("status").equals("in_progress")) {
          i.put("status", "canceled").put("status_sequence", i.getInteger("status_sequence") + 1);
        }
      });
    }
    sockets.forEach(ServerWebSocket::close);
    join(server.close());
    try {
      Thread.sleep(downMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    start();
  }

  // ---- queue ------------------------------------------------------------------------------

  private void enqueue(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    if (body == null || !(body.getValue("batch") instanceof JsonObject batch)
        || !(batch.getValue("graph") instanceof JsonObject graph)) {
      validation(ctx, new JsonArray().add("body").add("batch"), "Field required");
      return;
    }
    JsonObject nodes = graph.getJsonObject("nodes", new JsonObject());
    for (String id : nodes.fieldNames()) {
      if (!id.equals(nodes.getJsonObject(id).getString("id"))) {
        validation(ctx, new JsonArray().add("body").add("batch").add("graph"),
            "Value error, Node ids must match, got " + id + " and " + nodes.getJsonObject(id).getString("id"));
        return;
      }
    }
    for (Object e : graph.getJsonArray("edges", new JsonArray())) {
      JsonObject edge = (JsonObject) e;
      for (String end : List.of("source", "destination")) {
        String node = edge.getJsonObject(end).getString("node_id");
        if (!nodes.containsKey(node)) {
          validation(ctx, new JsonArray().add("body").add("batch").add("graph"), "Value error, Edge " + end
              + " node " + node + " does not exist in the graph");
          return;
        }
      }
    }
    batches.add(body);
    JsonObject echoed = batch.copy();
    if (echoed.getString("batch_id") == null) {
      echoed.put("batch_id", UUID.randomUUID().toString());
    }
    String batchId = echoed.getString("batch_id");
    List<JsonArray> fieldValues = sessions(batch);
    int requested = fieldValues.size() * batch.getInteger("runs", 1);
    List<Long> ids = new ArrayList<>();
    synchronized (this) {
      long room = Math.max(0, maxQueueSize - pending());
      for (int i = 0; i < requested && i < room; i++) {
        long id = nextItem++;
        String now = now();
        JsonObject session = new JsonObject().put("id", UUID.randomUUID().toString()).put("graph", graph)
            .put("results", new JsonObject()).put("errors", new JsonObject())
            .put("source_prepared_mapping", new JsonObject()).put("prepared_source_mapping", new JsonObject());
        items.put(id, new JsonObject().put("item_id", id).put("status", "pending").put("status_sequence", 0)
            .put("priority", 0).put("batch_id", batchId).put("origin", batch.getString("origin"))
            .put("destination", batch.getString("destination")).put("session_id", session.getString("id"))
            .put("error_type", null).put("error_message", null).put("error_traceback", null)
            .put("created_at", now).put("updated_at", now).put("started_at", null).put("completed_at", null)
            .put("queue_id", "default").put("user_id", "system").put("field_values", fieldValues.get(i % fieldValues.size()))
            .put("session", session).put("workflow", null));
        ids.add(id);
      }
    }
    ids.sort((a, b) -> Long.compare(b, a));
    emit("batch_enqueued", new JsonObject().put("timestamp", epoch()).put("queue_id", "default")
        .put("batch_id", batchId).put("enqueued", ids.size()).put("requested", requested).put("priority", 0)
        .put("origin", batch.getString("origin")).put("user_id", "system"));
    JsonObject result = new JsonObject().put("queue_id", "default").put("enqueued", ids.size())
        .put("requested", requested).put("batch", echoed).put("priority", 0).put("item_ids", new JsonArray(ids));
    vertx.runOnContext(v -> processNext());
    // a slow answer (a busy server): the sessions are already queued and start meanwhile
    vertx.setTimer(Math.max(1, enqueueDelayMs), t -> json(ctx, 200, result));
  }

  /** One list of field values per session: zipped within a group, cartesian across groups. */
  private static List<JsonArray> sessions(JsonObject batch) {
    List<JsonArray> out = new ArrayList<>();
    out.add(new JsonArray());
    JsonArray data = batch.getJsonArray("data");
    if (data == null) {
      return out;
    }
    for (Object g : data) {
      JsonArray group = (JsonArray) g;
      int length = group.getJsonObject(0).getJsonArray("items").size();
      List<JsonArray> next = new ArrayList<>();
      for (JsonArray prefix : out) {
        for (int i = 0; i < length; i++) {
          JsonArray values = prefix.copy();
          for (Object d : group) {
            JsonObject datum = (JsonObject) d;
            values.add(new JsonObject().put("node_path", datum.getString("node_path"))
                .put("field_name", datum.getString("field_name")).put("value", datum.getJsonArray("items").getValue(i)));
          }
          next.add(values);
        }
      }
      out = next;
    }
    return out;
  }

  private void processNext() {
    JsonObject item;
    synchronized (this) {
      if (running != null || processorPaused) {
        return;
      }
      item = items.values().stream().filter(i -> i.getString("status").equals("pending")).findFirst().orElse(null);
      if (item == null) {
        return;
      }
      running = item.getLong("item_id");
      item.put("status", "in_progress").put("started_at", now()).put("status_sequence", 1);
    }
    statusChanged(item);
    runSession(item.getLong("item_id"), 0);
  }

  private void runSession(long id, int step) {
    JsonObject item;
    int steps;
    synchronized (this) {
      item = items.get(id);
      if (item == null || !Long.valueOf(id).equals(running) || !item.getString("status").equals("in_progress")) {
        if (Long.valueOf(id).equals(running)) {
          running = null;
        }
        vertx.runOnContext(v -> processNext());
        return;
      }
      steps = node(item, "denoise").getInteger("steps", 10);
    }
    JsonObject base = new JsonObject().put("timestamp", epoch()).put("queue_id", "default").put("item_id", id)
        .put("batch_id", item.getString("batch_id")).put("origin", item.getString("origin"))
        .put("destination", item.getString("destination")).put("user_id", "system")
        .put("session_id", item.getString("session_id"));
    if (step == 0) {
      String key = node(item, "model").getJsonObject("model").getString("key");
      boolean known;
      String failType;
      String failMessage;
      synchronized (this) {
        known = models.containsKey(key);
        failType = failNextType;
        failMessage = failNextMessage;
        failNextType = null;
        failNextMessage = null;
      }
      emit("invocation_started", base.copy().put("invocation", node(item, "model")).put("invocation_source_id", "model"));
      if (!known) {
        fail(item, base, "model", "Exception", "Unknown model " + key);
        return;
      }
      if (failType != null) {
        fail(item, base, "denoise", failType, failMessage);
        return;
      }
      synchronized (this) {
        cache.put(key + ":unet", 1_700_000_000L);
        cache.put(key + ":vae", 160_000_000L);
        JsonObject nodes = item.getJsonObject("session").getJsonObject("graph").getJsonObject("nodes");
        for (String nodeId : nodes.fieldNames()) {
          JsonObject lora = nodes.getJsonObject(nodeId).getJsonObject("lora");
          if (lora != null) {
            cache.put(lora.getString("key"), 150_000_000L);
          }
        }
      }
      emit("model_load_complete", new JsonObject().put("timestamp", epoch()).put("config", models.get(key))
          .put("submodel_type", "unet").put("user_id", "system"));
    }
    if (step < steps) {
      int done = step + 1;
      JsonObject noise = node(item, "noise");
      emit("invocation_progress", base.copy().put("invocation", node(item, "denoise"))
          .put("invocation_source_id", "denoise").put("message", "Denoising").put("percentage", (double) done / steps)
          .put("image", new JsonObject().put("width", noise.getInteger("width")).put("height", noise.getInteger("height"))
              .put("dataURL", "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(preview())))
          .put("device", "cuda:0"));
      vertx.setTimer(Math.max(1, stepDelayMs), t -> runSession(id, done));
      return;
    }
    complete(item, base);
  }

  private void complete(JsonObject item, JsonObject base) {
    JsonObject noise = node(item, "noise");
    String name = UUID.randomUUID() + ".png";
    String prepared = UUID.randomUUID().toString();
    JsonObject output = new JsonObject().put("output_meta", null).put("image", new JsonObject().put("image_name", name))
        .put("width", noise.getInteger("width")).put("height", noise.getInteger("height")).put("type", "image_output");
    synchronized (this) {
      byte[] png = png(noise.getInteger("width"), noise.getInteger("height"));
      images.put(name, truncateImages ? java.util.Arrays.copyOf(png, 10) : png);
      JsonObject session = item.getJsonObject("session");
      session.getJsonObject("results").put(prepared, output);
      session.getJsonObject("source_prepared_mapping").put("l2i", new JsonArray().add(prepared));
      session.getJsonObject("prepared_source_mapping").put(prepared, "l2i");
      item.put("status", "completed").put("completed_at", now()).put("status_sequence", 2);
      running = null;
    }
    emit("invocation_complete", base.copy().put("invocation", node(item, "l2i")).put("invocation_source_id", "l2i")
        .put("result", output));
    statusChanged(item);
    vertx.runOnContext(v -> processNext());
  }

  private void fail(JsonObject item, JsonObject base, String node, String type, String message) {
    synchronized (this) {
      item.put("status", "failed").put("error_type", type).put("error_message", message)
          .put("error_traceback", "Traceback (most recent call last):\n  ...\n" + type + ": " + message)
          .put("completed_at", now()).put("status_sequence", 2);
      item.getJsonObject("session").getJsonObject("errors").put(UUID.randomUUID().toString(), type + ": " + message);
      running = null;
    }
    // InvokeAI emits the failed status first, then the invocation error.
    statusChanged(item);
    emit("invocation_error", base.copy().put("invocation", node(item, node)).put("invocation_source_id", node)
        .put("error_type", type).put("error_message", message).put("error_traceback", item.getString("error_traceback")));
    vertx.runOnContext(v -> processNext());
  }

  private void getItem(RoutingContext ctx) {
    JsonObject item = lookup(ctx);
    if (item != null) {
      json(ctx, 200, withoutNulls(item));
    }
  }

  private void cancel(RoutingContext ctx) {
    JsonObject item = lookup(ctx);
    if (item == null) {
      return;
    }
    synchronized (this) {
      if (failCancels > 0) {
        failCancels--;
        // what Starlette answers for an unhandled exception
        ctx.response().setStatusCode(500).putHeader("content-type", "text/plain; charset=utf-8")
            .end("Internal Server Error");
        return;
      }
    }
    boolean changed;
    synchronized (this) {
      changed = !TERMINAL.contains(item.getString("status"));
      if (changed) {
        item.put("status", "canceled").put("completed_at", now())
            .put("status_sequence", item.getInteger("status_sequence") + 1);
      }
    }
    if (changed) {
      statusChanged(item);
    }
    json(ctx, 200, item);
  }

  private void cancelBatches(RoutingContext ctx) {
    JsonArray ids = ctx.body().asJsonObject().getJsonArray("batch_ids");
    int canceled = 0;
    synchronized (this) {
      for (JsonObject item : items.values()) {
        if (ids.contains(item.getString("batch_id")) && !TERMINAL.contains(item.getString("status"))) {
          item.put("status", "canceled");
          canceled++;
        }
      }
    }
    json(ctx, 200, new JsonObject().put("canceled", canceled));
  }

  private JsonObject lookup(RoutingContext ctx) {
    String raw = ctx.pathParam("item");
    long id;
    try {
      id = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      validation(ctx, new JsonArray().add("path").add("item_id"), "Input should be a valid integer");
      return null;
    }
    JsonObject item;
    synchronized (this) {
      item = items.get(id);
    }
    if (item == null) {
      json(ctx, 404, new JsonObject().put("detail", "Queue item with id " + id + " not found in queue default"));
    }
    return item;
  }

  private void statusChanged(JsonObject item) {
    JsonObject event;
    synchronized (this) {
      event = new JsonObject().put("timestamp", epoch()).put("queue_id", "default")
          .put("item_id", item.getLong("item_id")).put("batch_id", item.getString("batch_id"))
          .put("origin", item.getString("origin")).put("destination", item.getString("destination"))
          .put("user_id", "system").put("status", item.getString("status"))
          .put("status_sequence", item.getInteger("status_sequence")).put("error_type", item.getValue("error_type"))
          .put("error_message", item.getValue("error_message")).put("error_traceback", item.getValue("error_traceback"))
          .put("created_at", item.getString("created_at")).put("updated_at", now())
          .put("started_at", item.getValue("started_at")).put("completed_at", item.getValue("completed_at"))
          .put("batch_status", new JsonObject()).put("queue_status", new JsonObject())
          .put("session_id", item.getString("session_id"));
    }
    emit("queue_item_status_changed", event);
  }

  // ---- images and models ------------------------------------------------------------------

  private void image(RoutingContext ctx) {
    byte[] png;
    synchronized (this) {
      png = images.get(ctx.pathParam("name"));
    }
    if (png == null) {
      json(ctx, 404, new JsonObject().put("detail", "Not Found"));
      return;
    }
    ctx.response().putHeader("Content-Type", "image/png").putHeader("Cache-Control", "max-age=31536000")
        .putHeader("Content-Disposition", "inline; filename=\"" + ctx.pathParam("name") + "\"")
        .end(io.vertx.core.buffer.Buffer.buffer(png));
  }

  private void listModels(RoutingContext ctx) {
    String type = ctx.request().getParam("model_type");
    JsonArray out = new JsonArray();
    synchronized (this) {
      models.values().stream().filter(m -> type == null || type.equals(m.getString("type"))).forEach(out::add);
    }
    json(ctx, 200, new JsonObject().put("models", out));
  }

  private void install(RoutingContext ctx) {
    String source = ctx.request().getParam("source");
    JsonObject changes = ctx.body().asJsonObject();
    if (source == null || changes == null) {
      validation(ctx, new JsonArray().add(source == null ? "query" : "body").add(source == null ? "source" : ""),
          "Field required");
      return;
    }
    installs.add(new JsonObject().put("source", source).put("inplace", ctx.request().getParam("inplace"))
        .put("body", changes));
    boolean url = source.startsWith("http://") || source.startsWith("https://");
    JsonObject job;
    synchronized (this) {
      long id = nextInstall++;
      // a URL is downloaded into the models directory under the last part of its path, as InvokeAI does
      String local = url ? "/invokeai/models/tmpinstall_" + id + "/"
          + source.replaceFirst("\\?.*", "").replaceFirst(".*/", "") : source;
      job = new JsonObject().put("id", id).put("status", "waiting").put("error_reason", null)
          .put("config_in", changes).put("config_out", null).put("inplace", !url)
          .put("source", url ? new JsonObject().put("url", source).put("access_token", null).put("type", "url")
              : new JsonObject().put("path", source).put("inplace", true).put("type", "local"))
          .put("local_path", local).put("bytes", 0).put("total_bytes", 0).put("source_metadata", null)
          .put("download_parts", new JsonArray()).put("error", null).put("error_traceback", null)
          .put("polls", 0);
      installJobs.put(id, job);
    }
    if (url) {
      download(job, source);
    }
    json(ctx, 201, job);
  }

  /**
   * Fetches a URL source as InvokeAI's download queue does: a response that is not OK fails the
   * install with {@code HTTPError(resp.reason)}, so error_reason "HTTPError" and error the reason.
   */
  private void download(JsonObject job, String url) {
    synchronized (this) {
      job.put("download", "pending");
    }
    downloads.request(new RequestOptions().setAbsoluteURI(url))
        .compose(request -> request.send().compose(response -> response.body().map(body -> {
          synchronized (this) {
            if (response.statusCode() / 100 == 2) {
              downloaded.put(url.replaceFirst("\\?.*", ""), sha256(body.getBytes()));
              job.put("download", "done").put("bytes", body.length()).put("total_bytes", body.length());
            } else {
              job.put("download", "failed").put("http_reason", response.statusMessage());
            }
          }
          return null;
        })))
        .onFailure(err -> {
          synchronized (this) {
            job.put("download", "failed").put("http_reason", err.toString());
          }
        });
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Polls an install job answers "running" before it completes (a large download takes many). */
  volatile int installRunningPolls = 1;

  /** Install jobs advance on each poll: waiting, running, then completed (or error for "bad:" sources). */
  private void installJob(RoutingContext ctx) {
    long id = Long.parseLong(ctx.pathParam("id"));
    JsonObject job;
    synchronized (this) {
      job = installJobs.get(id);
      if (job != null) {
        int polls = job.getInteger("polls") + 1;
        job.put("polls", polls);
        String source = job.getString("local_path");
        String download = job.getString("download");
        if ("pending".equals(download)) {
          job.put("status", "downloading");
        } else if ("failed".equals(download)) {
          job.put("status", "error").put("error_reason", "HTTPError").put("error", job.getString("http_reason"));
        } else if (polls <= installRunningPolls) {
          job.put("status", "running");
        } else if (source.startsWith("bad:")) {
          job.put("status", "error").put("error_reason", "InvalidModelConfigException")
              .put("error", "Cannot determine model type for " + source);
        } else if (!"completed".equals(job.getString("status"))) {
          JsonObject changes = job.getJsonObject("config_in");
          String key = UUID.randomUUID().toString();
          String name = changes.getString("name");
          boolean lora = source.contains("lora");
          JsonObject config = config(key, name, source.contains("xl") ? "sdxl" : "sd-1", lora ? "lora" : "main", source);
          models.put(key, config);
          job.put("status", "completed").put("config_out", config);
        }
      }
    }
    if (job == null) {
      json(ctx, 404, new JsonObject().put("detail", "No such job"));
    } else {
      JsonObject view = job.copy();
      view.remove("polls");
      view.remove("download");
      view.remove("http_reason");
      json(ctx, 200, view);
    }
  }

  private void stats(RoutingContext ctx) {
    JsonObject stats;
    synchronized (this) {
      if (cache.isEmpty()) {
        stats = null;
      } else {
        JsonObject sizes = new JsonObject();
        cache.forEach(sizes::put);
        stats = new JsonObject().put("hits", 0).put("misses", cache.size()).put("high_watermark", 0)
            .put("in_cache", cache.size()).put("cleared", 0).put("cache_size", 0).put("loaded_model_sizes", sizes);
      }
    }
    ctx.response().putHeader("Content-Type", "application/json").end(stats == null ? "null" : stats.encode());
  }

  private static JsonObject config(String key, String name, String base, String type, String path) {
    return new JsonObject().put("key", key).put("hash", "blake3:" + key.replace("-", "")).put("path", path)
        .put("file_size", 2_132_625_894L).put("name", name).put("description", null).put("source", path)
        .put("source_type", "path").put("source_api_response", null).put("source_url", null).put("cover_image", null)
        .put("type", type).put("trigger_phrases", null).put("default_settings", null).put("base", base)
        .put("format", "checkpoint").put("config_path", null).put("prediction_type", "epsilon").put("variant", "normal");
  }

  // ---- socket.io (Engine.IO v4 over WebSocket) ---------------------------------------------

  private void socket(ServerWebSocket ws) {
    if (!ws.path().startsWith("/ws/socket.io") || !socketEnabled) {
      ws.close((short) 1008, "no");
      return;
    }
    ws.writeTextMessage("0" + new JsonObject().put("sid", UUID.randomUUID().toString()).put("upgrades", new JsonArray())
        .put("pingInterval", 25000).put("pingTimeout", 20000).put("maxPayload", 1000000).encode());
    ws.textMessageHandler(text -> {
      if (text.equals("40") || text.startsWith("40{")) {
        sockets.add(ws);
        ws.writeTextMessage("40" + new JsonObject().put("sid", UUID.randomUUID().toString()).encode());
        ws.writeTextMessage("2");
      }
    });
    ws.closeHandler(v -> sockets.remove(ws));
  }

  private void emit(String name, JsonObject payload) {
    String packet = "42" + new JsonArray().add(name).add(payload).encode();
    sockets.forEach(ws -> {
      if (!ws.isClosed()) {
        ws.writeTextMessage(packet);
      }
    });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static JsonObject node(JsonObject item, String id) {
    return item.getJsonObject("session").getJsonObject("graph").getJsonObject("nodes").getJsonObject(id);
  }

  private static void validation(RoutingContext ctx, JsonArray loc, String msg) {
    json(ctx, 422, new JsonObject().put("detail", new JsonArray().add(new JsonObject().put("type", "value_error")
        .put("loc", loc).put("msg", msg).put("input", null))));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  @SuppressWarnings("unchecked")
  private static JsonObject withoutNulls(JsonObject json) {
    JsonObject out = new JsonObject();
    json.forEach(e -> {
      Object v = e.getValue();
      if (v instanceof JsonObject o) {
        out.put(e.getKey(), withoutNulls(o));
      } else if (v instanceof Map<?, ?> m) {
        out.put(e.getKey(), withoutNulls(new JsonObject((Map<String, Object>) m)));
      } else if (v != null) {
        out.put(e.getKey(), v);
      }
    });
    return out;
  }

  private static String now() {
    return LocalDateTime.now(java.time.ZoneOffset.UTC).format(TS);
  }

  private static long epoch() {
    return System.currentTimeMillis() / 1000;
  }

  private static byte[] preview() {
    return encode(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "jpg");
  }

  static byte[] png(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      image.setRGB(x, x % height, 0xff8800);
    }
    return encode(image, "png");
  }

  private static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(image, format, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    join(vertx.close());
  }
}
