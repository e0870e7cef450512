package ai.pingvas.generation.domain;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One event of a job as published on {@code generation.events}: {@code type}, {@code job_id},
 * {@code user_id}, {@code seq} (monotonic per job), {@code ts} and type-specific fields.
 */
public record JobEvent(String type, String jobId, String userId, int seq, Instant ts, JsonObject data) {
  public static final String QUEUED = "job.queued";
  public static final String DISPATCHED = "job.dispatched";
  public static final String STARTED = "job.started";
  public static final String PROGRESS = "job.progress";
  public static final String SUCCEEDED = "job.succeeded";
  public static final String FAILED = "job.failed";
  public static final String CANCELED = "job.canceled";

  public JsonObject toJson() {
    JsonObject json = data == null ? new JsonObject() : data.copy();
    return json.put("type", type).put("job_id", jobId).put("user_id", userId).put("seq", seq)
        .put("ts", ts.toString());
  }

  public static JobEvent fromJson(JsonObject json) {
    JsonObject data = json.copy();
    data.remove("type");
    data.remove("job_id");
    data.remove("user_id");
    data.remove("seq");
    data.remove("ts");
    return new JobEvent(json.getString("type"), json.getString("job_id"), json.getString("user_id"),
        json.getInteger("seq"), Instant.parse(json.getString("ts")), data);
  }

  public boolean terminal() {
    return type.equals(SUCCEEDED) || type.equals(FAILED) || type.equals(CANCELED);
  }
}
