package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;

/** A job attempt a worker is executing, reported in hello and heartbeat so a router can adopt it. */
public record RunningJob(String jobId, int attempt) {
  public JsonObject toJson() {
    return new JsonObject().put("job_id", jobId).put("attempt", attempt);
  }

  public static RunningJob fromJson(JsonObject json) {
    return new RunningJob(Json.str(json, "job_id"), (int) Json.num(json, "attempt"));
  }
}
