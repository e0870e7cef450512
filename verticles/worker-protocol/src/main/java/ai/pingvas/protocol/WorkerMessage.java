package ai.pingvas.protocol;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** Messages a worker sends to the router over {@code /v1/workers/connect}. */
public sealed interface WorkerMessage {
  int PROTOCOL_VERSION = 1;

  JsonObject toJson();

  /** Parses one text frame; throws {@link ProtocolException} on anything malformed. */
  static WorkerMessage parse(String frame) {
    JsonObject json = Json.frame(frame);
    String type = Json.str(json, "type");
    return switch (type) {
      case "hello" -> Hello.fromJson(json);
      case "heartbeat" -> Heartbeat.fromJson(json);
      case "progress" -> Progress.fromJson(json);
      case "result" -> Result.fromJson(json);
      case "failure" -> Failure.fromJson(json);
      default -> throw new ProtocolException("unknown worker message type '" + type + "'");
    };
  }

  /**
   * First message on a connection: who the worker is, what it holds, what it is already running.
   * {@code queue}: assignments the worker accepts beyond its slots, each started as soon as a slot's
   * engine work ends (while the previous attempt's images still upload), so its GPU does not idle
   * for the report's round trip; 0 (the field absent, as from workers before it) = none. A worker
   * with a queue answers {@link RouterMessage.Revoke} for an attempt it has not started.
   */
  record Hello(int version, String workerId, String gpu, int vramMb, int vramFreeMb, int slots,
      List<String> modelsLoaded, String engine, List<RunningJob> running, int queue) implements WorkerMessage {
    public static final int MAX_QUEUE = 8;

    /** A worker without a queue (the protocol before it). */
    public Hello(int version, String workerId, String gpu, int vramMb, int vramFreeMb, int slots,
        List<String> modelsLoaded, String engine, List<RunningJob> running) {
      this(version, workerId, gpu, vramMb, vramFreeMb, slots, modelsLoaded, engine, running, 0);
    }

    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("type", "hello").put("version", version).put("worker_id", workerId)
          .put("gpu", gpu).put("vram_mb", vramMb).put("vram_free_mb", vramFreeMb).put("slots", slots)
          .put("models_loaded", Json.array(modelsLoaded, m -> m)).put("engine", engine)
          .put("running", Json.array(running, r -> ((RunningJob) r).toJson()));
      return queue == 0 ? json : json.put("queue", queue);
    }

    static Hello fromJson(JsonObject json) {
      int slots = (int) Json.num(json, "slots");
      if (slots < 1 || slots > 64) {
        throw new ProtocolException("slots must be between 1 and 64");
      }
      long queue = Json.optNum(json, "queue", 0);
      if (queue < 0 || queue > MAX_QUEUE) {
        throw new ProtocolException("queue must be between 0 and " + MAX_QUEUE);
      }
      String workerId = Json.str(json, "worker_id");
      if (workerId.isBlank() || workerId.length() > 128) {
        throw new ProtocolException("worker_id must be 1-128 characters");
      }
      return new Hello((int) Json.optNum(json, "version", PROTOCOL_VERSION), workerId,
          Json.str(json, "gpu"), (int) Json.num(json, "vram_mb"),
          (int) Json.optNum(json, "vram_free_mb", Json.num(json, "vram_mb")), slots,
          Json.strings(json, "models_loaded"), Json.optStr(json, "engine"),
          Json.objects(json, "running", RunningJob::fromJson), (int) queue);
    }
  }

  /** Periodic liveness and state; a worker silent past the heartbeat timeout is presumed dead. */
  record Heartbeat(int vramFreeMb, List<String> modelsLoaded, List<RunningJob> running, boolean draining,
      double gpuUtilization) implements WorkerMessage {
    public JsonObject toJson() {
      return new JsonObject().put("type", "heartbeat").put("vram_free_mb", vramFreeMb)
          .put("models_loaded", Json.array(modelsLoaded, m -> m))
          .put("running", Json.array(running, r -> ((RunningJob) r).toJson()))
          .put("draining", draining).put("gpu_utilization", gpuUtilization);
    }

    static Heartbeat fromJson(JsonObject json) {
      Object util = json.getValue("gpu_utilization");
      return new Heartbeat((int) Json.optNum(json, "vram_free_mb", 0), Json.strings(json, "models_loaded"),
          Json.objects(json, "running", RunningJob::fromJson), Json.optBool(json, "draining", false),
          util instanceof Number n ? n.doubleValue() : 0.0);
    }
  }

  /**
   * Progress of an attempt. Step 0 means the worker has started it (model loaded); a preview, when
   * present, is a small image as a data URL.
   */
  record Progress(String jobId, int attempt, int step, int total, String preview) implements WorkerMessage {
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("type", "progress").put("job_id", jobId).put("attempt", attempt)
          .put("step", step).put("total", total);
      if (preview != null) {
        json.put("preview", preview);
      }
      return json;
    }

    static Progress fromJson(JsonObject json) {
      String preview = Json.optStr(json, "preview");
      if (preview != null && (!preview.startsWith("data:image/") || preview.length() > 256 * 1024)) {
        throw new ProtocolException("preview must be a data:image/ URL under 256 KiB");
      }
      return new Progress(Json.str(json, "job_id"), (int) Json.num(json, "attempt"),
          (int) Json.num(json, "step"), (int) Json.num(json, "total"), preview);
    }
  }

  /**
   * An attempt finished: its images are uploaded. {@code loadMs} is the time the worker spent
   * loading the job's model for this attempt (start to step 0), null (the field absent) when it
   * already held the model: the router learns each model's load cost only from real loads.
   */
  record Result(String jobId, int attempt, List<ImageOutput> images, Long loadMs, long runMs)
      implements WorkerMessage {
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("type", "result").put("job_id", jobId).put("attempt", attempt)
          .put("images", Json.array(images, i -> ((ImageOutput) i).toJson()));
      if (loadMs != null) {
        json.put("load_ms", loadMs);
      }
      return json.put("run_ms", runMs);
    }

    static Result fromJson(JsonObject json) {
      Long loadMs = json.getValue("load_ms") == null ? null : Json.optNum(json, "load_ms", 0);
      if (loadMs != null && loadMs < 0) {
        throw new ProtocolException("field 'load_ms' must not be negative");
      }
      return new Result(Json.str(json, "job_id"), (int) Json.num(json, "attempt"),
          Json.objects(json, "images", ImageOutput::fromJson), loadMs, Json.optNum(json, "run_ms", 0));
    }
  }

  /**
   * An attempt failed. {@code retryable=false} marks deterministic failures (bad_request,
   * unknown model) that another attempt would repeat; code {@code canceled} acknowledges a cancel.
   * Codes {@code revoked} (answering {@link RouterMessage.Revoke}) and {@code worker_draining}
   * about an attempt the worker never started hand it back unused.
   */
  record Failure(String jobId, int attempt, String code, String message, boolean retryable)
      implements WorkerMessage {
    /** Longest error code and message kept of a report (longer ones are cut; NUL characters dropped). */
    public static final int MAX_CODE = 64;
    public static final int MAX_MESSAGE = 2000;

    public JsonObject toJson() {
      return new JsonObject().put("type", "failure").put("job_id", jobId).put("attempt", attempt)
          .put("code", code).put("message", message).put("retryable", retryable);
    }

    static Failure fromJson(JsonObject json) {
      return new Failure(Json.str(json, "job_id"), (int) Json.num(json, "attempt"),
          Json.storable(Json.str(json, "code"), MAX_CODE), Json.storable(Json.optStr(json, "message"), MAX_MESSAGE),
          Json.optBool(json, "retryable", true));
    }
  }
}
