package ai.pingvas.worker;

import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.Host;
import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;
import java.util.List;

/** The worker's configuration, typed and checked once at start. */
public record WorkerSettings(String workerId, java.util.List<String> routerUrls, String token, int slots, int queue, String engine,
    String gpuName, int vramMb, Duration disconnectAbort, Duration reconnectMin, Duration reconnectMax,
    boolean exitWhenDrained, Duration stepTime, Duration modelLoadTime, int maxModels, int previewEvery,
    int vramReserveMb, int modelVramMb, List<String> modelVram, String nvidiaSmi, int gpuIndex, Duration gpuPoll) {

  public static WorkerSettings from(Config config) {
    String id = config.optionalString("worker.id");
    if (id == null) {
      id = Host.name("worker");
    }
    String token = config.optionalString("worker.token");
    if (token == null) {
      throw new ConfigException("worker.token (PINGVAS_WORKER_TOKEN) must be set to the router's worker token");
    }
    String gpu = config.optionalString("worker.gpu-name");
    java.util.List<String> routers = config.list("worker.router-url");
    if (routers.isEmpty()) {
      throw new ConfigException("worker.router-url (PINGVAS_WORKER_ROUTER_URL) must name at least one router");
    }
    int queue = config.integer("worker.queue");
    if (queue < 0 || queue > WorkerMessage.Hello.MAX_QUEUE) {
      throw new ConfigException("worker.queue (PINGVAS_WORKER_QUEUE) must be between 0 and "
          + WorkerMessage.Hello.MAX_QUEUE + ", is " + queue);
    }
    return new WorkerSettings(id, routers, token, config.integer("worker.slots"), queue,
        config.string("worker.engine"), gpu == null ? "cpu (procedural)" : gpu, config.integer("worker.vram-mb"),
        config.duration("worker.disconnect-abort"), config.duration("worker.reconnect-min"),
        config.duration("worker.reconnect-max"), config.bool("worker.exit-when-drained"),
        config.duration("engine.step-time"), config.duration("engine.model-load-time"),
        config.integer("engine.max-models"), config.integer("engine.preview-every"),
        config.integer("engine.vram-reserve-mb"), config.integer("engine.model-vram-mb"), config.list("engine.model-vram"),
        config.optionalString("gpu.nvidia-smi"), config.integer("gpu.index"), config.duration("gpu.poll-interval"));
  }
}
