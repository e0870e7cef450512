package ai.pingvas.worker;

import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.http.OpsRoutes;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.worker.engine.Engine;
import ai.pingvas.worker.engine.ProceduralEngine;
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
    Engine engine = switch (settings.engine()) {
      case "procedural" -> new ProceduralEngine(vertx, settings.stepTime(), settings.modelLoadTime(),
          settings.maxModels(), settings.previewEvery());
      default -> throw new ConfigException("worker.engine '" + settings.engine() + "' is not available; use procedural");
    };
    GpuInfo gpu = GpuInfo.fixed(settings.gpuName(), settings.vramMb());
    RouterLinkVerticle link = new RouterLinkVerticle(settings, engine, gpu, runtime.registry(),
        settings.exitWhenDrained() ? onDrained : null);
    runtime.probes().register("router", () -> link.connected() ? Future.succeededFuture()
        : Future.failedFuture("not connected to a router"));
    runtime.probes().startRefreshing(1_000);
    Router router = OpsRoutes.mount(Router.router(vertx), runtime);
    OpsRoutes.notFound(router);
    return vertx.createHttpServer().requestHandler(router)
        .listen(runtime.config().integer("http.port"), runtime.config().string("http.host"))
        .compose(server -> {
          runtime.onClose(server::close);
          return vertx.deployVerticle(link);
        })
        .map(id -> link);
  }
}
