package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** Messages the router sends to a worker. */
public sealed interface RouterMessage {
  JsonObject toJson();

  static RouterMessage parse(String frame) {
    JsonObject json = Json.frame(frame);
    String type = Json.str(json, "type");
    return switch (type) {
      case "welcome" -> Welcome.fromJson(json);
      case "assign" -> Assign.fromJson(json);
      case "cancel" -> Cancel.fromJson(json);
      case "revoke" -> Revoke.fromJson(json);
      case "drain" -> Drain.fromJson(json);
      default -> throw new ProtocolException("unknown router message type '" + type + "'");
    };
  }

  /** Answer to hello: the router's identity and the heartbeat contract. */
  record Welcome(String routerId, long heartbeatIntervalMs, long heartbeatTimeoutMs, List<RunningJob> adopted,
      List<RunningJob> abandon) implements RouterMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "welcome").put("router_id", routerId)
          .put("heartbeat_interval_ms", heartbeatIntervalMs).put("heartbeat_timeout_ms", heartbeatTimeoutMs)
          .put("adopted", Json.array(adopted, r -> ((RunningJob) r).toJson()))
          .put("abandon", Json.array(abandon, r -> ((RunningJob) r).toJson()));
    }

    static Welcome fromJson(JsonObject json) {
      return new Welcome(Json.str(json, "router_id"), Json.num(json, "heartbeat_interval_ms"),
          Json.num(json, "heartbeat_timeout_ms"), Json.objects(json, "adopted", RunningJob::fromJson),
          Json.objects(json, "abandon", RunningJob::fromJson));
    }
  }

  /** Run this attempt and upload image {@code i} to {@code upload[i]}. */
  record Assign(JobSpec job, List<UploadSlot> upload) implements RouterMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "assign").put("job", job.toJson())
          .put("upload", Json.array(upload, u -> ((UploadSlot) u).toJson()));
    }

    static Assign fromJson(JsonObject json) {
      return new Assign(JobSpec.fromJson(Json.obj(json, "job")), Json.objects(json, "upload", UploadSlot::fromJson));
    }
  }

  /** Stop this attempt at the next step and report {@code failure{code=canceled}}. */
  record Cancel(String jobId, int attempt, String reason) implements RouterMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "cancel").put("job_id", jobId).put("attempt", attempt)
          .put("reason", reason);
    }

    static Cancel fromJson(JsonObject json) {
      return new Cancel(Json.str(json, "job_id"), (int) Json.num(json, "attempt"), Json.optStr(json, "reason"));
    }
  }

  /**
   * Give this queued attempt back if you have not started it (answer {@code failure{code=revoked}});
   * one already started runs on and reports as usual. Sent to workers with a queue when the attempt
   * ahead of it runs far longer than expected.
   */
  record Revoke(String jobId, int attempt, String reason) implements RouterMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "revoke").put("job_id", jobId).put("attempt", attempt)
          .put("reason", reason);
    }

    static Revoke fromJson(JsonObject json) {
      return new Revoke(Json.str(json, "job_id"), (int) Json.num(json, "attempt"), Json.optStr(json, "reason"));
    }
  }

  /** Finish what you run, take nothing new, then disconnect and exit. */
  record Drain(String reason) implements RouterMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "drain").put("reason", reason);
    }

    static Drain fromJson(JsonObject json) {
      return new Drain(Json.optStr(json, "reason"));
    }
  }
}
