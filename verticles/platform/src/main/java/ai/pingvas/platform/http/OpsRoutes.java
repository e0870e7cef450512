package ai.pingvas.platform.http;

import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

/** Mounts what every service router has: request ids, probes, metrics and the problem mapper. */
public final class OpsRoutes {
  private OpsRoutes() {
  }

  /** Call first on a new router, before the service's own routes. */
  public static Router mount(Router router, ServiceRuntime runtime) {
    router.route().handler(RequestIds::assign);
    router.get("/health/live").handler(runtime.probes().livenessHandler());
    router.get("/health/ready").handler(runtime.probes().readinessHandler());
    router.get("/metrics").handler(PrometheusScrapingHandler.create(runtime.registry()));
    router.route().failureHandler(ProblemHandler.create());
    return router;
  }

  /** Call last: unknown paths answer 404 problem+json instead of Vert.x's HTML page. */
  public static void notFound(Router router) {
    router.route().last().handler(ctx -> ctx.fail(404));
  }
}
