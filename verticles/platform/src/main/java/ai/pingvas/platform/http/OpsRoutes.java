package ai.pingvas.platform.http;

import ai.pingvas.platform.launch.ServiceRuntime;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** Mounts what every service router has: request ids, probes, metrics and the problem mapper. */
public final class OpsRoutes {
  private OpsRoutes() {
  }

  /** Call first on a new router, before the service's own routes. */
  public static Router mount(Router router, ServiceRuntime runtime) {
    router.route().handler(RequestIds::assign);
    router.get("/health/live").handler(runtime.probes().livenessHandler());
    router.get("/health/ready").handler(runtime.probes().readinessHandler());
    router.get("/metrics").handler(ctx -> scrape(ctx, runtime.registry()));
    router.route().failureHandler(ProblemHandler.create());
    return router;
  }

  /**
   * Prometheus text, rendered on a worker thread: rendering every series is milliseconds of CPU
   * that would otherwise stall the event loop, and the requests queued behind it, at each scrape.
   */
  static void scrape(RoutingContext ctx, PrometheusMeterRegistry registry) {
    ctx.vertx().executeBlocking(registry::scrape, false)
        .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text))
        .onFailure(ctx::fail);
  }

  /** Call last: unknown paths answer 404 problem+json instead of Vert.x's HTML page. */
  public static void notFound(Router router) {
    router.route().last().handler(ctx -> ctx.fail(404));
  }
}
