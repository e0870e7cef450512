package ai.pingvas.generation.dispatch;

import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.ids.Uuids;
import ai.pingvas.protocol.ImageOutput;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.List;

/**
 * Asks gallery-service to verify a worker's uploads (object exists, size, PNG signature) before a
 * job may succeed. A verdict of "invalid" (or a request the gallery refuses as malformed) fails the
 * attempt; gallery being unreachable or failing (5xx, 401/403 while tokens are rotated) is retried.
 */
public final class GalleryClient {
  /** Thrown when the gallery rejected the images (the attempt failed). */
  public static final class InvalidOutput extends RuntimeException {
    public InvalidOutput(String message) {
      super(message, null, false, false);
    }
  }

  private final WebClient client;
  private final String baseUrl;
  private final String internalToken;
  private final boolean verify;
  private final String publicUrl;

  public GalleryClient(Vertx vertx, String baseUrl, String internalToken, boolean verify, String publicUrl) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000).setKeepAlive(true));
    this.baseUrl = baseUrl;
    this.internalToken = internalToken;
    this.verify = verify;
    this.publicUrl = publicUrl;
  }

  /** Image id of an object key: the same on the router and in the gallery. */
  public static String imageId(String key) {
    return Uuids.imageId(key);
  }

  /**
   * The images as stored on the job, after verification; fails with {@link InvalidOutput}. The
   * gallery records the verified images (with the job's prompt and model) before answering, so their
   * URLs work as soon as the job reads succeeded, ahead of the {@code job.succeeded} event.
   */
  public Future<JsonArray> verify(String jobId, String userId, int attempt, String prompt, String model,
      List<ImageOutput> images) {
    JsonArray stored = new JsonArray();
    for (ImageOutput image : images) {
      String id = imageId(image.key());
      stored.add(image.toJson().put("id", id).put("url", publicUrl + "/v1/images/" + id + "/content"));
    }
    if (!verify) {
      return Future.succeededFuture(stored);
    }
    JsonObject body = new JsonObject().put("job_id", jobId).put("user_id", userId).put("attempt", attempt)
        .put("prompt", prompt).put("model", model).put("images", stored);
    return client.postAbs(baseUrl + "/internal/v1/images/verify")
        .putHeader(InternalAuth.HEADER, internalToken == null ? "" : internalToken)
        .timeout(10_000)
        .sendJsonObject(body)
        .compose(response -> {
          if (response.statusCode() == 200) {
            return Future.succeededFuture(stored);
          }
          // 422: the images are not what the worker reported; 400: the gallery cannot take this
          // request at all. Either way the same request would be refused again: retrying it would
          // hold the result until the execution timeout
          if (response.statusCode() == 422 || response.statusCode() == 400) {
            JsonObject problem = response.bodyAsJsonObject();
            return Future.failedFuture(new InvalidOutput(problem == null ? "images rejected"
                : problem.getString("detail", "images rejected")));
          }
          return Future.failedFuture(new IllegalStateException("gallery answered " + response.statusCode()));
        });
  }
}
