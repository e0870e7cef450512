package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** How the worker reaches its co-located InvokeAI ({@code invokeai.*}). */
public record InvokeAiSettings(String url, String queueId, boolean events, Duration pollInterval,
    Duration requestTimeout, Duration unreachableTimeout, Duration installTimeout, Map<String, String> sources) {

  public static InvokeAiSettings from(Config config) {
    Map<String, String> sources = new LinkedHashMap<>();
    for (String entry : config.list("invokeai.model-sources")) {
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("invokeai.model-sources entries look like name=source, got '" + entry + "'");
      }
      sources.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    return new InvokeAiSettings(config.string("invokeai.url"), config.string("invokeai.queue-id"),
        config.bool("invokeai.events"), config.duration("invokeai.poll-interval"),
        config.duration("invokeai.request-timeout"), config.duration("invokeai.unreachable-timeout"),
        config.duration("invokeai.install-timeout"), Map.copyOf(sources));
  }
}
