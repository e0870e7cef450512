package ai.pingvas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pingvas workers [drain ID]} (admin): the GPU fleet from the operator API. */
@Command(name = "workers", description = {"The connected workers (admin); 'workers drain ID' drains one.",
    "Lists GPU, VRAM, slots, loaded models, current jobs and heartbeat age of every worker."},
    subcommands = {WorkersCommand.Drain.class})
final class WorkersCommand extends ApiCommand {
  @Override
  int run() {
    JsonObject overview = api().get("/v1/admin/overview");
    JsonArray workers = overview.has("workers") ? overview.getAsJsonArray("workers") : new JsonArray();
    if (json()) {
      JsonObject result = new JsonObject();
      result.add("workers", workers);
      Output.json(out(), result);
      return Exit.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonElement element : workers) {
      JsonObject w = element.getAsJsonObject();
      List<String> jobs = new ArrayList<>();
      if (w.has("jobs")) {
        w.getAsJsonArray("jobs").forEach(j -> jobs.add(Output.string(j.getAsJsonObject(), "job_id")));
      }
      List<String> models = new ArrayList<>();
      if (w.has("models")) {
        w.getAsJsonArray("models").forEach(m -> models.add(m.getAsString()));
      }
      rows.add(List.of(Output.string(w, "id"), Output.string(w, "router_id", "-"), Output.string(w, "gpu", "-"),
          Output.string(w, "vram_mb", "-"), Output.string(w, "busy", "0") + "/" + Output.string(w, "slots", "0"),
          models.isEmpty() ? "-" : String.join(",", models), jobs.isEmpty() ? "idle" : String.join(",", jobs),
          Output.string(w, "heartbeat_age_ms", "-") + " ms",
          w.has("draining") && w.get("draining").getAsBoolean() ? "draining" : "serving"));
    }
    Output.table(out(), List.of("WORKER", "ROUTER", "GPU", "VRAM_MB", "BUSY", "MODELS", "JOBS", "HEARTBEAT", "STATE"),
        rows);
    return Exit.OK;
  }

  @Command(name = "drain", description = "Drain a worker: it finishes its current jobs, then takes no new ones.")
  static final class Drain extends ApiCommand {
    @Parameters(paramLabel = "WORKER_ID")
    String id;

    @Override
    int run() {
      JsonObject result = api().post("/v1/admin/workers/" + URLEncoder.encode(id, StandardCharsets.UTF_8)
          .replace("+", "%20") + "/drain", null);
      if (json()) {
        Output.json(out(), result);
      } else {
        out().println("Draining " + id + " (router " + Output.string(result, "router_id", "?") + ").");
      }
      return Exit.OK;
    }
  }
}
