package ai.pingvas.bench;

import ai.pingvas.generation.domain.Assignment;
import ai.pingvas.generation.domain.DispatchPolicy;
import ai.pingvas.generation.domain.FairQueue;
import ai.pingvas.generation.domain.Fleet;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.generation.domain.SchedulerSettings;
import ai.pingvas.generation.domain.Tier;
import ai.pingvas.generation.domain.WorkerView;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A discrete-event model of a GPU fleet driving the very policy classes the router runs
 * ({@link DispatchPolicy}): jobs arrive, the policy assigns them, a worker that lacks the model
 * spends the load time first, then the job's run time. Deterministic (seeded), and fast enough to
 * compare policies on hours of simulated fleet time.
 */
final class FleetModel {
  private FleetModel() {
  }

  /** One arrival: when, whose, which model. */
  record Arrival(long atMs, String user, String model) {
  }

  /** What to simulate. */
  record Setup(int gpus, int modelsPerGpu, long loadMs, long jobMs, List<Arrival> arrivals) {
  }

  /** Jobs arriving as a Poisson process at {@code utilisation} of the fleet's capacity. */
  static List<Arrival> poisson(int jobs, int models, double zipf, int users, int gpus, long jobMs, double utilisation,
      long seed) {
    List<String> modelOfJob = Bench.zipfModels(jobs, models, zipf, seed);
    Random random = new Random(seed + 1);
    double perMs = utilisation * gpus / (double) jobMs;
    List<Arrival> out = new ArrayList<>(jobs);
    double t = 0;
    for (int i = 0; i < jobs; i++) {
      t += -Math.log(1 - random.nextDouble()) / perMs;
      out.add(new Arrival((long) t, "u" + random.nextInt(users), modelOfJob.get(i)));
    }
    return out;
  }

  static JsonObject run(DispatchPolicy policy, Setup setup) {
    FairQueue queue = new FairQueue(Map.of("studio", new Tier("studio", 1, 1_000_000, 1_000_000)));
    Fleet fleet = new Fleet();
    for (int g = 0; g < setup.gpus(); g++) {
      fleet.add(new WorkerView("gpu-" + g, 1, 24_000, List.of()));
    }
    record Done(long atMs, String jobId, String worker) {
    }
    PriorityQueue<Done> running = new PriorityQueue<>((a, b) -> Long.compare(a.atMs(), b.atMs()));
    Map<String, Long> arrivedAt = new HashMap<>();
    long[] latencies = new long[setup.arrivals().size()];
    int finished = 0;
    long loads = 0;
    long busyMs = 0;
    long loadMs = 0;
    int next = 0;
    long now = 0;
    int seq = 0;
    long wake = Long.MAX_VALUE;
    // per GPU: when its last job ended (idle since), to split idle time into gaps between jobs and the tail
    Map<String, Long> idleSince = new HashMap<>();
    long idleBetweenMs = 0;
    while (finished < setup.arrivals().size()) {
      long nextArrival = next < setup.arrivals().size() ? setup.arrivals().get(next).atMs() : Long.MAX_VALUE;
      long nextDone = running.isEmpty() ? Long.MAX_VALUE : running.peek().atMs();
      now = Math.min(wake, Math.min(nextArrival, nextDone));
      wake = Long.MAX_VALUE;
      while (next < setup.arrivals().size() && setup.arrivals().get(next).atMs() <= now) {
        Arrival a = setup.arrivals().get(next++);
        String id = "job-" + seq++;
        arrivedAt.put(id, a.atMs());
        queue.add(new QueuedJob(id, a.user(), "studio", a.model(), List.of(), 0, a.atMs(), 0, 20, 1, a.atMs()), now);
      }
      while (!running.isEmpty() && running.peek().atMs() <= now) {
        Done d = running.poll();
        fleet.get(d.worker()).finish(d.jobId());
        idleSince.put(d.worker(), d.atMs());
        queue.runningEnded(d.jobId());
        latencies[finished++] = d.atMs() - arrivedAt.remove(d.jobId());
      }
      List<Assignment> decisions = policy.decide(queue, fleet, now);
      for (Assignment a : decisions) {
        Long since = idleSince.remove(a.workerId());
        idleBetweenMs += since == null ? 0 : now - since;
        long load = a.coldLoad() ? setup.loadMs() : 0;
        loads += a.coldLoad() ? 1 : 0;
        loadMs += load;
        busyMs += setup.jobMs();
        running.add(new Done(now + load + setup.jobMs(), a.job().jobId(), a.workerId()));
      }
      if (queue.size() > 0 && fleet.totalFree() > 0) {
        // jobs are waiting for a warm worker: look again when aging may have changed the decision
        wake = now + Long.getLong("wake", 500);
      }
    }
    long end = now;
    long idleTailMs = idleSince.values().stream().mapToLong(t -> end - t).sum();
    long first = setup.arrivals().get(0).atMs();
    long makespan = now - first;
    double ideal = (double) setup.arrivals().size() * setup.jobMs() / setup.gpus();
    // every GPU starts empty: none can finish before one load plus its share of the work
    double idealBusy = ideal / (ideal + setup.loadMs());
    double busy = busyMs / (double) (setup.gpus() * makespan);
    Arrays.sort(latencies);
    return new JsonObject().put("jobs", setup.arrivals().size()).put("model_loads", loads)
        .put("gpu_busy_fraction", Bench.round(busy)).put("busy_over_cold_start_ideal", Bench.round(busy / idealBusy))
        .put("load_fraction", Bench.round(loadMs / (double) (setup.gpus() * makespan)))
        .put("idle_between_jobs_s", Bench.round(idleBetweenMs / 1000.0)).put("idle_after_last_job_s",
            Bench.round(idleTailMs / 1000.0))
        .put("makespan_s", Bench.round(makespan / 1000.0)).put("makespan_over_ideal", Bench.round(makespan / ideal))
        .put("job_latency_p50_s", latencies[latencies.length / 2] / 1000.0)
        .put("job_latency_p99_s", latencies[(int) (latencies.length * 0.99)] / 1000.0);
  }

  /**
   * The live fleet scenario's exact arrivals (3,000 jobs at t=0, users in rotation, models Zipf(1.1)
   * with the live run's seed) and the same over {@code seeds} other model sequences: what the
   * policy alone achieves there, and how much that varies with the draw of models. Then the same
   * jobs submitted evenly over {@code rampMs} (as the live run submits them, at the rate the router
   * accepts), where the first loads are chosen from the first jobs to arrive rather than the queue.
   */
  static JsonObject likeLive(SchedulerSettings settings, int gpus, int jobs, long loadMs, long jobMs, int seeds,
      long rampMs) {
    return summary(settings, gpus, jobs, loadMs, jobMs, seeds, 0)
        .put("ramp", summary(settings, gpus, jobs, loadMs, jobMs, seeds, rampMs).put("ms", rampMs));
  }

  private static JsonObject summary(SchedulerSettings settings, int gpus, int jobs, long loadMs, long jobMs,
      int seeds, long rampMs) {
    JsonObject live = run(DispatchPolicy.affinity(settings),
        new Setup(gpus, 2, loadMs, jobMs, rotation(jobs, 42, rampMs)));
    double[] busy = new double[seeds];
    long loads = 0;
    for (int seed = 0; seed < seeds; seed++) {
      JsonObject r = run(DispatchPolicy.affinity(settings),
          new Setup(gpus, 2, loadMs, jobMs, rotation(jobs, seed, rampMs)));
      busy[seed] = r.getDouble("busy_over_cold_start_ideal");
      loads += r.getLong("model_loads");
    }
    Arrays.sort(busy);
    return live.put("seeds", seeds).put("seeds_busy_over_ideal_mean", Bench.round(Arrays.stream(busy).average()
        .orElse(0))).put("seeds_busy_over_ideal_min", busy[0]).put("seeds_busy_over_ideal_max", busy[seeds - 1])
        .put("seeds_model_loads_mean", Bench.round(loads / (double) seeds));
  }

  /** Job {@code i} by user {@code i % 20} at {@code i * rampMs / jobs}, models as the live scenario draws them. */
  private static List<Arrival> rotation(int jobs, long seed, long rampMs) {
    List<String> models = Bench.zipfModels(jobs, 12, 1.1, seed);
    List<Arrival> out = new ArrayList<>(jobs);
    for (int i = 0; i < jobs; i++) {
      out.add(new Arrival(i * rampMs / jobs, "u" + (i % 20), models.get(i)));
    }
    return out;
  }

  /** Runs the fleet scenario in the model for the three policies, batch and at 90% load. */
  static JsonObject compare(SchedulerSettings settings, int gpus, int jobs, long loadMs, long jobMs) {
    JsonObject out = new JsonObject();
    List<Arrival> batch = new ArrayList<>();
    List<String> models = Bench.zipfModels(jobs, 12, 1.1, 42);
    Random random = new Random(7);
    for (int i = 0; i < jobs; i++) {
      batch.add(new Arrival(0, "u" + random.nextInt(20), models.get(i)));
    }
    List<Arrival> steady = poisson(jobs, 12, 1.1, 20, gpus, jobMs, 0.9, 42);
    for (String policy : List.of("affinity", "least-loaded", "round-robin")) {
      JsonObject p = new JsonObject();
      p.put("batch", run(DispatchPolicy.named(policy, settings), new Setup(gpus, 2, loadMs, jobMs, batch)));
      p.put("poisson_90pct", run(DispatchPolicy.named(policy, settings), new Setup(gpus, 2, loadMs, jobMs, steady)));
      out.put(policy, p);
    }
    return out;
  }
}
