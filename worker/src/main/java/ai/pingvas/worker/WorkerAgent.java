package ai.pingvas.worker;

import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.http.ServerOptions;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.worker.engine.Engine;
import ai.pingvas.worker.engine.ModelLru;
import ai.pingvas.worker.engine.ModelSizes;
import ai.pingvas.worker.engine.ProceduralEngine;
import ai.pingvas.worker.engine.invokeai.InvokeAiEngine;
import ai.pingvas.worker.engine.invokeai.InvokeAiSettings;
import ai.pingvas.worker.engine.invokeai.ModelDownloads;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The worker agent: an engine, a link to the router, and a small HTTP server for probes and
 * metrics. Liveness is the process; readiness is "connected to a router".
 */
public final class WorkerAgent {
  public static final String NAME = "worker";
  public static final ServiceMain.Descriptor DESCRIPTOR =
      new ServiceMain.Descriptor(NAME, "/worker-defaults.yaml", null);

  private WorkerAgent() {
  }

  public static void main(String[] args) {
    ServiceMain.run(args, DESCRIPTOR, runtime -> start(runtime, () -> runtime.close()
        .onComplete(ar -> System.exit(0))));
  }

  /** Starts a worker; {@code onDrained} runs when a router-initiated drain completes. */
  public static Future<RouterLinkVerticle> start(ServiceRuntime runtime, Runnable onDrained) {
    Vertx vertx = runtime.vertx();
    WorkerSettings settings = WorkerSettings.from(runtime.config());
    GpuInfo configured = GpuInfo.fixed(settings.gpuName(), settings.vramMb());
    Future<GpuInfo> detected = settings.nvidiaSmi() == null ? Future.succeededFuture(configured)
        : GpuInfo.detect(vertx, settings.nvidiaSmi(), settings.gpuIndex(), settings.gpuPoll(), configured);
    return detected.compose(gpu -> {
      GpuInfo.bind(gpu, runtime.registry());
      ModelLru lru = new ModelLru(gpu.vramMb() - settings.vramReserveMb(), settings.maxModels());
      ModelSizes sizes = new ModelSizes(settings.modelVram(), settings.modelVramMb());
      Gauge.builder("pingvas_worker_models_vram_mb", lru, ModelLru::usedMb)
          .description("VRAM the loaded models take (by the engine's accounting)").register(runtime.registry());
      Engine engine = switch (settings.engine()) {
        case "procedural" -> new ProceduralEngine(vertx, settings.stepTime(), settings.modelLoadTime(), lru, sizes,
            settings.previewEvery());
        case "invokeai" -> {
          ModelDownloads downloads = new ModelDownloads(vertx, runtime.config());
          runtime.onClose(() -> {
            downloads.close();
            return Future.succeededFuture();
          });
          yield new InvokeAiEngine(vertx, InvokeAiSettings.from(runtime.config()), downloads, lru, sizes,
              runtime.registry());
        }
        default -> throw new ConfigException("worker.engine '" + settings.engine()
            + "' is not available; use procedural or invokeai");
      };
      runtime.onClose(engine::close);
      Future<Void> ready = engine instanceof InvokeAiEngine invokeai ? invokeai.start() : Future.succeededFuture();
      return ready.compose(v -> serve(runtime, settings, engine, gpu, onDrained));
    });
  }

  private static Future<RouterLinkVerticle> serve(ServiceRuntime runtime, WorkerSettings settings, Engine engine,
      GpuInfo gpu, Runnable onDrained) {
    Vertx vertx = runtime.vertx();
    RouterLinkVerticle link = new RouterLinkVerticle(settings, engine, gpu, runtime.registry(),
        settings.exitWhenDrained() ? onDrained : null);
    runtime.probes().register("router", () -> link.connected() ? Future.succeededFuture()
        : Future.failedFuture("not connected to a router"));
    runtime.probes().startRefreshing(1_000);
    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    OpsRoutes.notFound(router);
    return vertx.createHttpServer(ServerOptions.defaults()).requestHandler(router)
        .listen(runtime.config().integer("http.port"), runtime.config().string("http.host"))
        .compose(server -> {
          runtime.onClose(server::close);
          return vertx.deployVerticle(link);
        })
        .map(id -> link);
  }
}
