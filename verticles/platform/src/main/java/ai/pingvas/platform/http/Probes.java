package ai.pingvas.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.util.function.Supplier;

/**
 * Liveness and readiness of a service. Readiness runs the registered dependency checks (Postgres,
 * Kafka, ...) and turns false as soon as shutdown begins. A background refresh keeps
 * {@link #ready()} cheap enough to gate every request on it.
 */
public final class Probes {
  private static final long CHECK_TIMEOUT_MS = 2_500;

  private final Vertx vertx;
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private volatile boolean stopping;
  private volatile boolean ready;
  private volatile JsonObject lastReport = new JsonObject();
  private long timerId = -1;

  public Probes(Vertx vertx) {
    this.vertx = vertx;
    this.liveness = HealthChecks.create(vertx);
    this.readiness = HealthChecks.create(vertx);
    liveness.register("event-loop", promise -> promise.complete(Status.OK()));
    readiness.register("accepting", promise -> promise.complete(stopping
        ? Status.KO(new JsonObject().put("reason", "shutting down")) : Status.OK()));
  }

  /** Adds a readiness check: the dependency is usable when the future succeeds. */
  public Probes register(String name, Supplier<Future<?>> check) {
    // Our own deadline, shorter than the framework's: a hung dependency is reported DOWN (503), not
    // as a failed procedure (500).
    readiness.register(name, CHECK_TIMEOUT_MS + 1_000, promise -> {
      long timer = vertx.setTimer(CHECK_TIMEOUT_MS, id -> promise.tryComplete(
          Status.KO(new JsonObject().put("error", "no answer within " + CHECK_TIMEOUT_MS + " ms"))));
      check.get().onComplete(
          ok -> {
            vertx.cancelTimer(timer);
            promise.tryComplete(Status.OK());
          },
          err -> {
            vertx.cancelTimer(timer);
            promise.tryComplete(Status.KO(new JsonObject().put("error", String.valueOf(err.getMessage()))));
          });
    });
    return this;
  }

  /** Re-evaluates readiness every {@code periodMs} so that request admission can read it for free. */
  public void startRefreshing(long periodMs) {
    refresh();
    timerId = vertx.setPeriodic(periodMs, id -> refresh());
  }

  public Future<Boolean> refresh() {
    return readiness.checkStatus().map(result -> {
      ready = result.getUp() && !stopping;
      lastReport = result.toJson();
      return ready;
    }).otherwise(err -> {
      ready = false;
      return false;
    });
  }

  /** The last readiness verdict (false while stopping). */
  public boolean ready() {
    return ready && !stopping;
  }

  /** The last readiness report, naming the failing check. */
  public JsonObject lastReport() {
    return lastReport;
  }

  public void markStopping() {
    stopping = true;
    ready = false;
  }

  public boolean stopping() {
    return stopping;
  }

  public void stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
  }

  public HealthCheckHandler livenessHandler() {
    return HealthCheckHandler.createWithHealthChecks(liveness);
  }

  public HealthCheckHandler readinessHandler() {
    return HealthCheckHandler.createWithHealthChecks(readiness);
  }
}
