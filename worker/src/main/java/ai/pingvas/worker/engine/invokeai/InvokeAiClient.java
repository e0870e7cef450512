package ai.pingvas.worker.engine.invokeai;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * InvokeAI's REST API, the subset the engine uses (paths and shapes per InvokeAI 6.x's routers).
 * Non-2xx answers fail with {@link InvokeAiException} carrying the status and FastAPI's {@code detail}.
 */
final class InvokeAiClient {
  private final WebClient client;
  private final String base;
  private final String queue;
  private final long timeoutMs;

  InvokeAiClient(Vertx vertx, String baseUrl, String queueId, long timeoutMs) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setKeepAlive(true)
        .setDecompressionSupported(true));
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.queue = "/api/v1/queue/" + enc(queueId);
    this.timeoutMs = timeoutMs;
  }

  /** {@code GET /api/v1/app/version}. */
  Future<String> version() {
    return json(client.getAbs(base + "/api/v1/app/version").timeout(timeoutMs).send())
        .map(body -> ((JsonObject) body).getString("version"));
  }

  /** {@code GET /api/v2/models/?model_type=} (trailing slash: the route is "/"). */
  Future<List<JsonObject>> models(String modelType) {
    return json(client.getAbs(base + "/api/v2/models/?model_type=" + enc(modelType)).timeout(timeoutMs).send())
        .map(body -> ((JsonObject) body).getJsonArray("models", new JsonArray()).stream()
            .map(JsonObject.class::cast).toList());
  }

  /** {@code POST /api/v2/models/install?source=&inplace=true} with a {@code ModelRecordChanges} body; 201 with the job. */
  Future<JsonObject> install(String source, String name) {
    return json(client.postAbs(base + "/api/v2/models/install?source=" + enc(source) + "&inplace=true")
        .timeout(timeoutMs).sendJsonObject(new JsonObject().put("name", name))).map(JsonObject.class::cast);
  }

  /** {@code GET /api/v2/models/install/{id}}. */
  Future<JsonObject> installJob(long id) {
    return json(client.getAbs(base + "/api/v2/models/install/" + id).timeout(timeoutMs).send())
        .map(JsonObject.class::cast);
  }

  /** {@code GET /api/v2/models/stats}: the model cache's stats, or null when InvokeAI has none yet. */
  Future<JsonObject> cacheStats() {
    return json(client.getAbs(base + "/api/v2/models/stats").timeout(timeoutMs).send())
        .map(body -> body instanceof JsonObject stats ? stats : null);
  }

  /** {@code POST /api/v2/models/empty_model_cache}: drops every unlocked model from RAM and VRAM. */
  Future<Void> emptyModelCache() {
    return json(client.postAbs(base + "/api/v2/models/empty_model_cache").timeout(timeoutMs).send()).mapEmpty();
  }

  /** {@code POST /api/v1/queue/{queue_id}/enqueue_batch} with {@code {"batch": ..., "prepend": false}}. */
  Future<JsonObject> enqueueBatch(JsonObject batch) {
    return json(client.postAbs(base + queue + "/enqueue_batch").timeout(timeoutMs)
        .sendJsonObject(new JsonObject().put("batch", batch).put("prepend", false))).map(JsonObject.class::cast);
  }

  /** {@code GET /api/v1/queue/{queue_id}/i/{item_id}} (null keys omitted by InvokeAI). */
  Future<JsonObject> queueItem(long itemId) {
    return json(client.getAbs(base + queue + "/i/" + itemId).timeout(timeoutMs).send()).map(JsonObject.class::cast);
  }

  /** {@code PUT /api/v1/queue/{queue_id}/i/{item_id}/cancel}: a finished item comes back unchanged. */
  Future<JsonObject> cancel(long itemId) {
    return json(client.putAbs(base + queue + "/i/" + itemId + "/cancel").timeout(timeoutMs).send())
        .map(JsonObject.class::cast);
  }

  /** {@code PUT /api/v1/queue/{queue_id}/cancel_by_batch_ids}. */
  Future<Void> cancelBatch(String batchId) {
    return json(client.putAbs(base + queue + "/cancel_by_batch_ids").timeout(timeoutMs)
        .sendJsonObject(new JsonObject().put("batch_ids", new JsonArray().add(batchId)))).mapEmpty();
  }

  /** {@code GET /api/v1/images/i/{image_name}/full}: the PNG. */
  Future<byte[]> imageFull(String imageName) {
    return client.getAbs(base + "/api/v1/images/i/" + enc(imageName) + "/full").timeout(timeoutMs).send()
        .compose(r -> r.statusCode() == 200 ? Future.succeededFuture(r.bodyAsBuffer().getBytes())
            : Future.failedFuture(InvokeAiException.of(r)));
  }

  private static Future<Object> json(Future<HttpResponse<Buffer>> response) {
    return response.compose(r -> {
      if (r.statusCode() / 100 != 2) {
        return Future.failedFuture(InvokeAiException.of(r));
      }
      Buffer body = r.bodyAsBuffer();
      String text = body == null ? "" : body.toString().trim();
      if (text.isEmpty() || text.equals("null")) {
        return Future.succeededFuture(null);
      }
      return Future.succeededFuture(text.startsWith("[") ? new JsonArray(text) : new JsonObject(text));
    });
  }

  private static String enc(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  void close() {
    client.close();
  }
}
