package ai.pingvas.platform.launch;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.db.Database;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The {@code main} of every service image. {@code <service>} runs it; {@code <service> migrate}
 * applies the database migrations and exits (the Kubernetes PreSync hook).
 */
public final class ServiceMain {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceMain.class);

  private ServiceMain() {
  }

  /** Describes a service to the launcher. */
  public record Descriptor(String name, String defaultsResource, String migrations) {
  }

  public static void run(String[] args, Descriptor descriptor, Function<ServiceRuntime, Future<?>> starter) {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Config config;
    try {
      config = ConfigLoader.load(descriptor.defaultsResource());
    } catch (ConfigException e) {
      LOG.error("invalid configuration: {}", e.getMessage());
      System.exit(2);
      return;
    }
    if (args.length > 0 && args[0].equals("migrate")) {
      if (descriptor.migrations() == null) {
        LOG.info("{} has no database", descriptor.name());
        return;
      }
      Database.fromConfig(config).migrateBlocking(descriptor.migrations());
      return;
    }
    ServiceRuntime runtime = ServiceRuntime.create(descriptor.name(), config);
    Duration grace = config.duration("shutdown.grace");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      runtime.close().onComplete(ar -> stopped.countDown());
      try {
        stopped.await(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "shutdown"));
    long began = System.nanoTime();
    starter.apply(runtime).onComplete(
        ok -> LOG.atInfo().addKeyValue("service", descriptor.name())
            .addKeyValue("port", config.integer("http.port"))
            .addKeyValue("environment", config.string("environment"))
            .addKeyValue("startup_ms", (System.nanoTime() - began) / 1_000_000)
            .log("{} started", descriptor.name()),
        err -> {
          LOG.error("{} failed to start: {}", descriptor.name(), err.toString(), err);
          System.exit(1);
        });
  }
}
