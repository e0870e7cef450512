package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.domain.FairQueue;
import ai.pingvas.generation.domain.Fleet;
import ai.pingvas.generation.domain.WorkerView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The router's own metrics. Gauges read a snapshot taken on the dispatcher's event loop, never the
 * live (single-threaded) structures. Queue gauges describe the shared queue, so every replica
 * reports the same value: aggregate them with {@code max}, not {@code sum}.
 */
final class DispatchMetrics {
  private final MeterRegistry registry;
  private final Timer dispatchLatency;
  private final Counter warm;
  private final Counter cold;
  private final Counter claimLost;
  private final Counter placedAtAdmission;
  private final Counter heldAhead;
  private final Counter heldReturned;
  private final Counter sentAhead;
  final Timer claimTime;
  final Timer signTime;
  private final Counter fenced;
  private final Counter eventsKnown;
  private final Counter eventsApplied;
  private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final Map<String, Counter> rejections = new ConcurrentHashMap<>();
  private final Map<String, Counter> hellos = new ConcurrentHashMap<>();
  private final Map<Tags, AtomicLong> depth = new ConcurrentHashMap<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong running = new AtomicLong();
  private final AtomicLong oldestSeconds = new AtomicLong();
  private final AtomicLong workers = new AtomicLong();
  private final AtomicLong slots = new AtomicLong();
  private final AtomicLong busySlots = new AtomicLong();
  private final AtomicLong attempts = new AtomicLong();
  private final long[] completions = new long[60];
  private final long[] recent = new long[1_000];
  private long recentNext;
  private long completionsSecond;

  DispatchMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.dispatchLatency = Timer.builder("pingvas_dispatch_latency_seconds")
        .description("time from a job being queued to its assign being sent to a worker (submit-to-assign)")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
    this.warm = Counter.builder("pingvas_dispatches_total").tag("model_load", "warm")
        .description("jobs sent to workers, by whether the worker had to load the model").register(registry);
    this.cold = Counter.builder("pingvas_dispatches_total").tag("model_load", "cold").register(registry);
    this.claimTime = Timer.builder("pingvas_claim_seconds")
        .description("time of one dispatch round's claim in Postgres").publishPercentileHistogram()
        .register(registry);
    this.signTime = Timer.builder("pingvas_upload_signing_seconds")
        .description("time to presign one assignment's upload URLs").register(registry);
    this.claimLost = Counter.builder("pingvas_claims_lost_total")
        .description("dispatch decisions lost to another replica or a cancel").register(registry);
    this.placedAtAdmission = Counter.builder("pingvas_placed_at_admission_total")
        .description("jobs stored already dispatched because a worker was free when they were submitted "
            + "(one transaction instead of queue then claim)").register(registry);
    this.heldAhead = Counter.builder("pingvas_claimed_ahead_total")
        .description("jobs claimed for a busy worker shortly before its running job was expected to end "
            + "(held by the router until its slot freed, or sent to the worker's queue)").register(registry);
    this.sentAhead = Counter.builder("pingvas_claimed_ahead_sent_total")
        .description("jobs claimed ahead and sent at once to a worker with a queue, which starts them when its "
            + "running job's engine work ends").register(registry);
    this.heldReturned = Counter.builder("pingvas_claimed_ahead_returned_total")
        .description("jobs claimed ahead that went back to the queue instead (the running job overran, "
            + "the worker drained or disconnected; a queued one revoked or handed back)").register(registry);
    this.eventsKnown = Counter.builder("pingvas_queue_events_total").tag("outcome", "known")
        .description("queue-changing events of the shared topic, by whether the dispatcher had made the change "
            + "itself (known, not parsed) or applied it to its view (applied)").register(registry);
    this.eventsApplied = Counter.builder("pingvas_queue_events_total").tag("outcome", "applied").register(registry);
    this.fenced = Counter.builder("pingvas_results_fenced_total")
        .description("worker results refused because their attempt was no longer current").register(registry);
    Gauge.builder("pingvas_queue_jobs", queued, AtomicLong::get)
        .description("jobs waiting in the shared queue").register(registry);
    Gauge.builder("pingvas_jobs_running", running, AtomicLong::get)
        .description("jobs holding a worker slot, all replicas").register(registry);
    Gauge.builder("pingvas_queue_oldest_seconds", oldestSeconds, AtomicLong::get)
        .description("age of the oldest queued job").register(registry);
    Gauge.builder("pingvas_workers_connected", workers, AtomicLong::get)
        .description("workers connected to this replica").register(registry);
    Gauge.builder("pingvas_worker_slots", slots, AtomicLong::get).tag("state", "total")
        .description("worker slots on this replica").register(registry);
    Gauge.builder("pingvas_worker_slots", busySlots, AtomicLong::get).tag("state", "busy").register(registry);
    Gauge.builder("pingvas_attempts_inflight", attempts, AtomicLong::get)
        .description("attempts running on this replica's workers").register(registry);
  }

  void dispatched(boolean coldLoad, long queuedForMs) {
    (coldLoad ? cold : warm).increment();
    dispatchLatency.record(Duration.ofMillis(Math.max(0, queuedForMs)));
    synchronized (recent) {
      recent[(int) (recentNext++ % recent.length)] = Math.max(0, queuedForMs);
    }
  }

  /** p50 and p99 of the last 1,000 submit-to-assign latencies (ms), for the operator view. */
  io.vertx.core.json.JsonObject recentDispatchLatency() {
    long[] copy;
    synchronized (recent) {
      copy = java.util.Arrays.copyOf(recent, (int) Math.min(recentNext, recent.length));
    }
    java.util.Arrays.sort(copy);
    io.vertx.core.json.JsonObject out = new io.vertx.core.json.JsonObject().put("samples", copy.length);
    if (copy.length == 0) {
      return out.put("p50", null).put("p99", null);
    }
    return out.put("p50", copy[(int) Math.floor(0.50 * (copy.length - 1))])
        .put("p99", copy[(int) Math.floor(0.99 * (copy.length - 1))]);
  }

  void claimedAhead() {
    heldAhead.increment();
  }

  void sentAhead() {
    sentAhead.increment();
  }

  void claimedAheadReturned() {
    heldReturned.increment();
  }

  void claimLost() {
    claimLost.increment();
  }

  void placedAtAdmission() {
    placedAtAdmission.increment();
  }

  void fenced() {
    fenced.increment();
  }

  void queueEvent(boolean known) {
    (known ? eventsKnown : eventsApplied).increment();
  }

  /** A worker's hello answered: {@code welcomed}, or {@code asked_to_reconnect} (its jobs could not be looked up). */
  void hello(String outcome) {
    hellos.computeIfAbsent(outcome, o -> Counter.builder("pingvas_worker_hellos_total").tag("outcome", o)
        .description("worker hellos answered, by outcome").register(registry)).increment();
  }

  void rejected(String code) {
    rejections.computeIfAbsent(code, c -> Counter.builder("pingvas_submissions_rejected_total").tag("code", c)
        .description("submissions refused by admission control").register(registry)).increment();
  }

  void outcome(String outcome) {
    outcomes.computeIfAbsent(outcome, o -> Counter.builder("pingvas_attempt_outcomes_total").tag("outcome", o)
        .description("how attempts on this replica's workers ended").register(registry)).increment();
    if (outcome.equals("succeeded")) {
      synchronized (completions) {
        roll();
        completions[(int) (completionsSecond % completions.length)]++;
      }
    }
  }

  /** Jobs completed per second over the last minute (0 when none). */
  double completionsPerSecond() {
    synchronized (completions) {
      roll();
      long total = 0;
      for (long c : completions) {
        total += c;
      }
      return total / (double) completions.length;
    }
  }

  private void roll() {
    long second = System.currentTimeMillis() / 1000;
    while (completionsSecond < second) {
      completionsSecond++;
      completions[(int) (completionsSecond % completions.length)] = 0;
      if (second - completionsSecond > completions.length) {
        completionsSecond = second;
        java.util.Arrays.fill(completions, 0);
      }
    }
  }

  void workers(int connected, int totalSlots) {
    workers.set(connected);
    slots.set(totalSlots);
  }

  /** Takes the gauge values; runs on the dispatcher's event loop. */
  void snapshot(FairQueue queue, Fleet fleet, int inflight) {
    queued.set(queue.size());
    running.set(queue.runningTotal());
    attempts.set(inflight);
    long now = System.currentTimeMillis();
    FairQueue.Depth queued = queue.depth(now);
    Map<Tags, Long> counts = new HashMap<>();
    queued.byTierModel().forEach((tier, models) -> models.forEach((model, n) ->
        counts.put(Tags.of("tier", tier, "model", model), n.longValue())));
    oldestSeconds.set((now - queued.oldestEnqueuedMs()) / 1000);
    depth.forEach((tags, value) -> value.set(counts.getOrDefault(tags, 0L)));
    counts.forEach((tags, count) -> depth.computeIfAbsent(tags, t -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder("pingvas_queue_depth", value, AtomicLong::get).tags(t)
          .description("jobs waiting in the shared queue, by tier and model").register(registry);
      return value;
    }).set(count));
    int busy = 0;
    int total = 0;
    for (WorkerView w : fleet.all()) {
      busy += w.busy();
      total += w.slots();
    }
    busySlots.set(busy);
    slots.set(total);
    workers.set(fleet.size());
  }
}
