package ai.pingvas.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code pingvas queue} (admin): the shared queue from the operator API. */
@Command(name = "queue", description = "The queue (admin): depth by tier and model, oldest wait, throughput, dispatch latency.")
final class QueueCommand extends ApiCommand {
  @Override
  int run() {
    JsonObject overview = api().get("/v1/admin/overview");
    JsonObject queue = Output.object(overview, "queue");
    if (json()) {
      JsonObject result = new JsonObject();
      result.add("queue", queue);
      result.add("throughput_per_s", overview.get("throughput_per_s"));
      result.add("dispatch_latency_ms", overview.get("dispatch_latency_ms"));
      Output.json(out(), result);
      return Exit.OK;
    }
    JsonObject latency = Output.object(overview, "dispatch_latency_ms");
    out().println("Queued " + Output.string(queue, "queued", "0") + ", running " + Output.string(queue, "running", "0")
        + ", oldest waiting " + Output.string(queue, "oldest_seconds", "0") + " s");
    out().println("Throughput " + Output.string(overview, "throughput_per_s", "0") + " jobs/s, dispatch latency p50 "
        + Output.string(latency, "p50", "-") + " ms, p99 " + Output.string(latency, "p99", "-") + " ms");
    List<List<String>> rows = new ArrayList<>();
    if (queue.has("by_tier_model")) {
      for (JsonElement element : queue.getAsJsonArray("by_tier_model")) {
        JsonObject row = element.getAsJsonObject();
        rows.add(List.of(Output.string(row, "tier"), Output.string(row, "model"), Output.string(row, "queued")));
      }
    }
    if (!rows.isEmpty()) {
      out().println();
      Output.table(out(), List.of("TIER", "MODEL", "QUEUED"), rows);
    }
    out().flush();
    return Exit.OK;
  }
}
