package ai.pingvas.platform.launch;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.http.Probes;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.micrometer.MicrometerMetricsFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running service: its Vert.x instance (with its own metrics registry), probes, configuration
 * and the resources to close on shutdown. Graceful shutdown turns readiness off, undeploys the
 * verticles (each finishes its in-flight work in {@code stop()}), then closes pools and clients in
 * reverse order of registration.
 */
public final class ServiceRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceRuntime.class);

  private final String service;
  private final Config config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final Probes probes;
  private final Deque<Supplier<Future<?>>> closers = new ArrayDeque<>();
  private final AtomicBoolean closing = new AtomicBoolean();

  private ServiceRuntime(String service, Config config, int eventLoops) {
    this.service = service;
    this.config = config;
    this.registry = Metrics.newRegistry(service);
    VertxOptions options = new VertxOptions().setMetricsOptions(Metrics.options());
    if (eventLoops > 0) {
      options.setEventLoopPoolSize(eventLoops);
    }
    this.vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    Metrics.bindJvm(registry);
    this.probes = new Probes(vertx);
  }

  /** A runtime with {@code vertx.event-loops} event loops (0 or unset: Vert.x's default, 2 × cores). */
  public static ServiceRuntime create(String service, Config config) {
    int eventLoops = config.has("vertx.event-loops") ? config.integer("vertx.event-loops") : 0;
    if (eventLoops < 0) {
      throw new ConfigException("vertx.event-loops must be 0 (Vert.x's default) or more, got " + eventLoops);
    }
    return new ServiceRuntime(service, config, eventLoops);
  }

  /** A runtime with a fixed number of event loops (the dev stack runs many services in one JVM). */
  public static ServiceRuntime create(String service, Config config, int eventLoops) {
    return new ServiceRuntime(service, config, eventLoops);
  }

  public String service() {
    return service;
  }

  public Config config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public Probes probes() {
    return probes;
  }

  /** Registers a resource to close after the verticles are undeployed (closed last-registered first). */
  /**
   * Shuts an HTTP server down gracefully: it stops accepting at once and its open requests get
   * {@code shutdown.grace} to finish. For a verticle's {@code stop()}.
   */
  public Future<Void> shutdown(HttpServer server) {
    return server == null ? Future.succeededFuture()
        : server.shutdown(config.duration("shutdown.grace").toMillis(), TimeUnit.MILLISECONDS);
  }

  public void onClose(Supplier<Future<?>> closer) {
    synchronized (closers) {
      closers.push(closer);
    }
  }

  /** Graceful shutdown; safe to call more than once. */
  public Future<Void> close() {
    if (!closing.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    Duration grace = config.duration("shutdown.grace");
    LOG.atInfo().addKeyValue("service", service).addKeyValue("grace", grace.toString()).log("shutting down");
    probes.markStopping();
    probes.stop();
    List<String> deployments = new ArrayList<>(vertx.deploymentIDs());
    // Undeploy newest first: API verticles were deployed last and stop accepting before the rest.
    java.util.Collections.reverse(deployments);
    Future<Void> chain = Future.succeededFuture();
    for (String id : deployments) {
      chain = chain.compose(v -> vertx.undeploy(id).recover(err -> {
        LOG.warn("undeploy of {} failed: {}", id, err.getMessage());
        return Future.succeededFuture();
      }));
    }
    List<Supplier<Future<?>>> toClose;
    synchronized (closers) {
      toClose = new ArrayList<>(closers);
    }
    for (Supplier<Future<?>> closer : toClose) {
      chain = chain.compose(v -> closer.get().<Void>mapEmpty().recover(err -> Future.succeededFuture()));
    }
    return chain.eventually(() -> vertx.close()).onComplete(
        ok -> LOG.atInfo().addKeyValue("service", service).log("stopped"),
        err -> LOG.warn("shutdown of {} ended with {}", service, err.toString()));
  }
}
