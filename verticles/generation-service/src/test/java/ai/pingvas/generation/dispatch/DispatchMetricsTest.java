package ai.pingvas.generation.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.domain.FairQueue;
import ai.pingvas.generation.domain.Fleet;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.domain.Tier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DispatchMetricsTest {
  private static final Map<String, Tier> TIERS = Map.of("free", new Tier("free", 1, 2, 1_000),
      "pro", new Tier("pro", 3, 4, 1_000));

  private static QueuedJob job(int n, String user, String tier, String model, long enqueuedAt) {
    return new QueuedJob("job-" + n, user, tier, model, List.of(), 0, enqueuedAt, 0, 20, 1, enqueuedAt);
  }

  private static double depth(SimpleMeterRegistry registry, String tier, String model) {
    return registry.get("pingvas_queue_depth").tag("tier", tier).tag("model", model).gauge().value();
  }

  @Test
  void queueDepthIsCountedPerTierAndModelAndFallsToZeroWhenDrained() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DispatchMetrics metrics = new DispatchMetrics(registry);
    FairQueue queue = new FairQueue(TIERS);
    long now = System.currentTimeMillis();
    queue.add(job(1, "a", "free", "sd-1.5", now - 30_000), now);
    queue.add(job(2, "a", "free", "sd-1.5", now), now);
    queue.add(job(3, "b", "free", "sdxl", now), now);
    queue.add(job(4, "c", "pro", "sd-1.5", now), now);
    metrics.snapshot(queue, new Fleet(), 0);

    assertThat(depth(registry, "free", "sd-1.5")).isEqualTo(2);
    assertThat(depth(registry, "free", "sdxl")).isEqualTo(1);
    assertThat(depth(registry, "pro", "sd-1.5")).isEqualTo(1);
    assertThat(registry.get("pingvas_queue_jobs").gauge().value()).isEqualTo(4);
    assertThat(registry.get("pingvas_queue_oldest_seconds").gauge().value()).isBetween(29.0, 31.0);

    queue.remove("job-1");
    queue.remove("job-2");
    metrics.snapshot(queue, new Fleet(), 0);
    assertThat(depth(registry, "free", "sd-1.5")).isZero();
    assertThat(depth(registry, "pro", "sd-1.5")).isEqualTo(1);
  }
}
