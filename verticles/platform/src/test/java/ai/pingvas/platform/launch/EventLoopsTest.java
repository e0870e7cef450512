package ai.pingvas.platform.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventLoopsTest {

  /** The distinct threads that start {@code instances} instances of a verticle. */
  private static Set<Thread> loopThreads(ServiceRuntime runtime, int instances) throws Exception {
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    runtime.vertx().deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        threads.add(Thread.currentThread());
        return Future.succeededFuture();
      }
    }, new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    return threads;
  }

  @Test
  void theConfiguredNumberOfEventLoopsServesEveryVerticle() throws Exception {
    ServiceRuntime one = ServiceRuntime.create("test", Config.of(Map.of("vertx.event-loops", 1, "shutdown.grace", "1s")));
    ServiceRuntime three = ServiceRuntime.create("test", Config.of(Map.of("vertx.event-loops", 3, "shutdown.grace", "1s")));
    try {
      assertThat(loopThreads(one, 6)).hasSize(1);
      assertThat(loopThreads(three, 6)).hasSize(3);
    } finally {
      one.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      three.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNegativeCountIsRefused() {
    assertThatThrownBy(() -> ServiceRuntime.create("test", Config.of(Map.of("vertx.event-loops", -1))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("vertx.event-loops");
  }
}
