package ai.pingvas.models.domain;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * One record of {@code worker.events}, as the routers publish it: {@code worker.seen} (what a
 * connected worker holds) or {@code worker.gone} (its connection {@code session_id} ended).
 */
public record WorkerEvent(String type, String workerId, String sessionId, String routerId, String engine,
    String gpu, int vramMb, int vramFreeMb, List<String> models, Instant ts) {
  public static final String SEEN = "worker.seen";
  public static final String GONE = "worker.gone";

  /** Parses a record; throws {@link IllegalArgumentException} on anything that is not a worker event. */
  public static WorkerEvent fromJson(JsonObject json) {
    String type = json.getString("type");
    String workerId = json.getString("worker_id");
    String sessionId = json.getString("session_id");
    if (!SEEN.equals(type) && !GONE.equals(type) || workerId == null || sessionId == null) {
      throw new IllegalArgumentException("not a worker event: " + json.encode());
    }
    JsonArray models = json.getJsonArray("models_loaded", new JsonArray());
    return new WorkerEvent(type, workerId, sessionId, json.getString("router_id", ""), json.getString("engine"),
        json.getString("gpu"), json.getInteger("vram_mb", 0), json.getInteger("vram_free_mb", 0),
        models.stream().map(String::valueOf).toList(), Instant.parse(json.getString("ts")));
  }
}
