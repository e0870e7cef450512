package ai.pingvas.generation.http;

import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.events.PositionBoard;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** The public JSON form of a job. */
final class JobView {
  private JobView() {
  }

  static JsonObject of(Job job, PositionBoard.Place place, String publicUrl) {
    int total = job.progressTotal() > 0 ? job.progressTotal() : job.params().steps();
    int step = Math.min(job.progressStep(), total);
    JsonObject params = job.params().toJson();
    JsonObject json = new JsonObject()
        .put("id", job.id())
        .put("status", job.status().wire())
        .put("model", job.params().model())
        .put("prompt", job.params().prompt())
        .put("params", params)
        .put("progress", new JsonObject().put("step", step).put("total", total)
            .put("percent", total == 0 ? 0.0 : Math.round(1000.0 * step / total) / 10.0))
        .put("queue_position", place == null ? null : place.position())
        .put("eta_seconds", place == null ? null : place.etaSeconds())
        .put("attempt", job.attempt())
        .put("created_at", iso(job.createdAt()))
        .put("started_at", iso(job.startedAt()))
        .put("finished_at", iso(job.finishedAt()))
        .put("error", job.errorCode() == null || !job.status().terminal() ? null
            : new JsonObject().put("code", job.errorCode()).put("message", job.errorMessage()));
    JsonArray images = new JsonArray();
    for (Object item : job.images()) {
      JsonObject image = (JsonObject) item;
      String id = image.getString("id");
      images.add(new JsonObject().put("id", id).put("url", publicUrl + "/v1/images/" + id + "/content")
          .put("width", image.getInteger("width")).put("height", image.getInteger("height"))
          .put("seed", image.getLong("seed")));
    }
    return json.put("images", images);
  }

  private static String iso(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
