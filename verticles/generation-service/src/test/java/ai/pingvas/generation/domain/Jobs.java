package ai.pingvas.generation.domain;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Builders for scheduler tests. */
final class Jobs {
  static final Map<String, Tier> TIERS = Map.of(
      "free", new Tier("free", 1, 2, 100_000),
      "pro", new Tier("pro", 3, 4, 100_000),
      "studio", new Tier("studio", 6, 16, 100_000));
  static final SchedulerSettings SETTINGS = new SchedulerSettings(20_000, 8_000, 100, 2);
  private static final AtomicLong IDS = new AtomicLong();

  private Jobs() {
  }

  static QueuedJob job(String user, String tier, String model, int priority, long enqueuedAt) {
    return new QueuedJob("job-" + IDS.incrementAndGet(), user, tier, model, List.of(), priority, enqueuedAt, 0, 20, 1,
        enqueuedAt);
  }

  static QueuedJob job(String user, String model, long enqueuedAt) {
    return job(user, "free", model, 0, enqueuedAt);
  }

  static WorkerView worker(String id, String... models) {
    return new WorkerView(id, 1, 24_000, List.of(models));
  }
}
