package ai.pingvas.cli;

import com.google.gson.JsonObject;
import java.util.Set;

/** What the CLI knows of a job while following it: from the job resource and then from its events. */
final class JobState {
  static final Set<String> TERMINAL = Set.of("succeeded", "failed", "canceled");

  final String id;
  String status;
  Integer queuePosition;
  Double etaSeconds;
  int step;
  int total;
  double percent;
  String errorCode;
  String errorMessage;

  JobState(JsonObject job) {
    this.id = Output.string(job, "id");
    apply(job);
  }

  boolean terminal() {
    return TERMINAL.contains(status);
  }

  /** Takes the state of a job resource (GET /v1/generations/{id} or a snapshot). */
  void apply(JsonObject job) {
    status = Output.string(job, "status", "queued");
    queuePosition = integer(job, "queue_position");
    etaSeconds = decimal(job, "eta_seconds");
    progress(Output.object(job, "progress"));
    JsonObject error = Output.object(job, "error");
    errorCode = Output.string(error, "code");
    errorMessage = Output.string(error, "message");
  }

  /** Applies one stream event, in seq order. */
  void apply(String type, JsonObject event) {
    switch (type) {
      case "job.snapshot" -> apply(Output.object(event, "job"));
      case "job.queued" -> {
        status = "queued";
        if (event.has("queue_position")) {
          queuePosition = integer(event, "queue_position");
        }
        if (event.has("eta_seconds")) {
          etaSeconds = decimal(event, "eta_seconds");
        }
      }
      case "job.dispatched" -> {
        status = "dispatched";
        queuePosition = null;
      }
      case "job.started" -> status = "running";
      case "job.progress" -> {
        status = "running";
        progress(Output.object(event, "progress"));
      }
      case "job.succeeded" -> status = "succeeded";
      case "job.failed" -> {
        status = "failed";
        JsonObject error = Output.object(event, "error");
        errorCode = Output.string(error, "code");
        errorMessage = Output.string(error, "message");
      }
      case "job.canceled" -> status = "canceled";
      default -> {
      }
    }
  }

  private void progress(JsonObject progress) {
    if (progress.has("total")) {
      step = progress.get("step").getAsInt();
      total = progress.get("total").getAsInt();
      percent = progress.has("percent") ? progress.get("percent").getAsDouble()
          : total == 0 ? 0 : 100.0 * step / total;
    }
  }

  private static Integer integer(JsonObject object, String name) {
    return object.has(name) && !object.get(name).isJsonNull() ? object.get(name).getAsInt() : null;
  }

  private static Double decimal(JsonObject object, String name) {
    return object.has(name) && !object.get(name).isJsonNull() ? object.get(name).getAsDouble() : null;
  }
}
