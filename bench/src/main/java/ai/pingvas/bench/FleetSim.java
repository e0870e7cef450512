package ai.pingvas.bench;

import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.JobSpec;
import ai.pingvas.protocol.ProtocolException;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * A simulated GPU fleet in its own JVM: many workers speaking the real worker protocol to the
 * router, each with slots, a VRAM-bound set of loaded models (LRU), a model-load time, a per-step
 * time and optional failure injection. It measures what only a worker can see: submit-to-assign
 * latency (the submit time travels in the prompt), model loads and busy time. Stats at GET /stats.
 */
public final class FleetSim {
  private static final Pattern SUBMITTED = Pattern.compile("t=(\\d+)");
  private static final Pattern USER = Pattern.compile("u=([A-Za-z0-9_-]+)");

  private final Vertx vertx;
  private final Config config;
  private final Stats stats = new Stats();
  private final List<SimWorker> workers = new ArrayList<>();

  /** How the fleet behaves; read from the environment of the process. */
  record Config(List<String> routers, String token, String prefix, int workers, int slots, int queue,
      int modelsPerWorker, long loadMs, long stepMs, boolean hold, double failRate, int statsPort) {
    static Config fromEnv() {
      Map<String, String> env = System.getenv();
      return new Config(List.of(env.get("BENCH_ROUTERS").split(",")), env.get("BENCH_TOKEN"),
          env.getOrDefault("BENCH_PREFIX", "sim"), Integer.parseInt(env.getOrDefault("BENCH_WORKERS", "25")),
          Integer.parseInt(env.getOrDefault("BENCH_SLOTS", "4")),
          // as our worker: one job accepted beyond the slots, started when a slot's job ends
          Integer.parseInt(env.getOrDefault("BENCH_QUEUE", "1")),
          Integer.parseInt(env.getOrDefault("BENCH_MODELS_PER_WORKER", "2")),
          Long.parseLong(env.getOrDefault("BENCH_LOAD_MS", "0")), Long.parseLong(env.getOrDefault("BENCH_STEP_MS", "0")),
          Boolean.parseBoolean(env.getOrDefault("BENCH_HOLD", "false")),
          Double.parseDouble(env.getOrDefault("BENCH_FAIL_RATE", "0")),
          Integer.parseInt(env.getOrDefault("BENCH_STATS_PORT", "0")));
    }
  }

  private FleetSim(Vertx vertx, Config config) {
    this.vertx = vertx;
    this.config = config;
  }

  public static void main(String[] args) throws Exception {
    Config config = Config.fromEnv();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    FleetSim sim = new FleetSim(vertx, config);
    sim.start();
    Thread.currentThread().join();
  }

  private void start() {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(5_000)
        .setMaxConnections(config.workers() * 2));
    for (int i = 0; i < config.workers(); i++) {
      SimWorker worker = new SimWorker(config.prefix() + "-" + i, client);
      workers.add(worker);
      vertx.setTimer(1 + i * 5L, id -> worker.connect());
    }
    vertx.createHttpServer().requestHandler(req -> {
      if (req.path().equals("/reset")) {
        stats.reset();
        req.response().end("{}");
      } else {
        JsonObject json = stats.toJson();
        json.put("connected", workers.stream().filter(w -> w.welcomed).count());
        req.response().putHeader("Content-Type", "application/json").end(json.encode());
      }
    }).listen(config.statsPort(), "127.0.0.1");
  }

  static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
  }

  /** One simulated worker. Runs on one event loop; the stats object is shared and synchronized. */
  private final class SimWorker {
    private final String id;
    private final WebSocketClient client;
    private final LinkedHashSet<String> models = new LinkedHashSet<>();
    private final Map<String, Running> running = new HashMap<>();
    /** Assigned beyond the slots (the worker's queue): started in order as slots free. */
    private final java.util.ArrayDeque<Running> waiting = new java.util.ArrayDeque<>();
    private int busySlots;
    private WebSocket socket;
    private volatile boolean welcomed;
    private int attempt;
    private long heartbeatTimer = -1;
    /** When this worker last became idle (µs), to measure the gap until it starts its next job. */
    private long idleSince = -1;

    private final class Running {
      final JobSpec job;
      final List<ai.pingvas.protocol.UploadSlot> upload;
      final long received;
      final long submitted;
      long timer = -1;
      WorkerMessage report;

      Running(JobSpec job, List<ai.pingvas.protocol.UploadSlot> upload, long received, long submitted) {
        this.job = job;
        this.upload = upload;
        this.received = received;
        this.submitted = submitted;
      }
    }

    SimWorker(String id, WebSocketClient client) {
      this.id = id;
      this.client = client;
    }

    void connect() {
      String url = config.routers().get(Math.floorMod(attempt++, config.routers().size()));
      client.connect(new WebSocketConnectOptions().setAbsoluteURI(url).putHeader("Authorization",
          "Bearer " + config.token())).onSuccess(ws -> {
            socket = ws;
            ws.textMessageHandler(this::onText);
            ws.closeHandler(v -> onClosed());
            send(new WorkerMessage.Hello(1, id, "simulated", 24_000, 24_000, config.slots(), List.copyOf(models), "sim",
                running.values().stream().map(r -> new RunningJob(r.job.jobId(), r.job.attempt())).toList(),
                config.queue()));
          }).onFailure(err -> vertx.setTimer(200 + ThreadLocalRandom.current().nextInt(300), t -> connect()));
    }

    private void onClosed() {
      socket = null;
      welcomed = false;
      // queued jobs never started: the router re-queues them with the connection
      waiting.forEach(r -> running.remove(r.job.jobId()));
      waiting.clear();
      if (heartbeatTimer >= 0) {
        vertx.cancelTimer(heartbeatTimer);
      }
      vertx.setTimer(100 + ThreadLocalRandom.current().nextInt(200), t -> connect());
    }

    private void send(WorkerMessage message) {
      if (socket != null && !socket.isClosed()) {
        socket.writeTextMessage(message.toJson().encode());
      }
    }

    private void onText(String text) {
      RouterMessage message;
      try {
        message = RouterMessage.parse(text);
      } catch (ProtocolException e) {
        return;
      }
      if (message instanceof RouterMessage.Welcome welcome) {
        welcomed = true;
        for (RunningJob abandoned : welcome.abandon()) {
          Running r = running.remove(abandoned.jobId());
          waiting.remove(r);
          stop(r);
        }
        for (Running r : List.copyOf(running.values())) {
          if (r.report != null) {
            send(r.report);
            running.remove(r.job.jobId());
          }
        }
        heartbeatTimer = vertx.setPeriodic(Math.max(200, welcome.heartbeatIntervalMs()), t -> send(
            new WorkerMessage.Heartbeat(24_000, List.copyOf(models), running.values().stream()
                .map(r -> new RunningJob(r.job.jobId(), r.job.attempt())).toList(), false, 1.0)));
      } else if (message instanceof RouterMessage.Assign assign) {
        onAssign(assign);
      } else if (message instanceof RouterMessage.Cancel cancel) {
        Running r = running.remove(cancel.jobId());
        if (r != null) {
          stop(r);
          waiting.remove(r);
          send(new WorkerMessage.Failure(cancel.jobId(), cancel.attempt(), "canceled", "canceled", false));
        }
      } else if (message instanceof RouterMessage.Revoke revoke) {
        Running r = running.get(revoke.jobId());
        if (r != null && r.job.attempt() == revoke.attempt() && waiting.remove(r)) {
          running.remove(revoke.jobId());
          send(new WorkerMessage.Failure(revoke.jobId(), revoke.attempt(), "revoked", "not started", true));
        }
      }
    }

    private void onAssign(RouterMessage.Assign assign) {
      long received = nowMicros();
      JobSpec job = assign.job();
      Matcher t = SUBMITTED.matcher(job.prompt());
      Matcher u = USER.matcher(job.prompt());
      long submitted = t.find() ? Long.parseLong(t.group(1)) : received;
      String user = u.find() ? u.group(1) : "-";
      stats.assigned(id, user, received - submitted, submitted, received);
      Running r = new Running(job, assign.upload(), received, submitted);
      Running previous = running.put(job.jobId(), r);
      if (previous != null) {
        waiting.remove(previous);
        stop(previous);
      }
      if (config.hold()) {
        return;
      }
      if (busySlots < config.slots()) {
        run(r);
      } else {
        waiting.add(r);
      }
    }

    /** A started job ends early (canceled, abandoned, replaced): its slot frees. */
    private void stop(Running r) {
      if (r != null && r.timer >= 0) {
        vertx.cancelTimer(r.timer);
        r.timer = -1;
        slotFreed();
      }
    }

    private void slotFreed() {
      busySlots--;
      while (busySlots < config.slots() && !waiting.isEmpty()) {
        run(waiting.poll());
      }
      if (busySlots == 0) {
        idleSince = nowMicros();
      }
    }

    private void run(Running r) {
      JobSpec job = r.job;
      long started = nowMicros();
      if (idleSince >= 0) {
        stats.idleGap(started - idleSince, started);
        idleSince = -1;
      }
      busySlots++;
      boolean cold = !models.contains(job.model());
      stats.started(cold);
      models.remove(job.model());
      models.add(job.model());
      while (models.size() > config.modelsPerWorker()) {
        models.remove(models.iterator().next());
      }
      long loadMs = cold ? config.loadMs() : 0;
      long runMs = config.stepMs() * job.steps();
      long total = loadMs + runMs;
      Runnable finish = () -> {
        if (running.get(job.jobId()) != r) {
          return;
        }
        long done = nowMicros();
        r.timer = -1;
        stats.finished(id, done - r.submitted, done, runMs, loadMs, done - started - total * 1000);
        // the GPU takes the queued job before this one's report goes out
        slotFreed();
        if (config.failRate() > 0 && ThreadLocalRandom.current().nextDouble() < config.failRate()) {
          r.report = new WorkerMessage.Failure(job.jobId(), job.attempt(), "engine_error", "injected failure", true);
        } else {
          List<ImageOutput> images = new ArrayList<>();
          for (var slot : r.upload) {
            images.add(new ImageOutput(slot.index(), slot.key(), job.width(), job.height(), job.seed() + slot.index(),
                1, "0"));
          }
          r.report = new WorkerMessage.Result(job.jobId(), job.attempt(), images, cold ? loadMs : null, runMs);
        }
        if (welcomed && socket != null) {
          send(r.report);
          running.remove(job.jobId());
        }
      };
      if (total <= 0) {
        finish.run();
      } else {
        r.timer = vertx.setTimer(total, id2 -> finish.run());
      }
    }
  }

  /** Fleet-wide measurements. */
  private static final class Stats {
    private Histogram assignLatency = histogram();
    private Histogram jobLatency = histogram();
    private final Map<String, Histogram> waitByUser = new HashMap<>();
    private long assigned;
    private long finished;
    private long coldLoads;
    private long busyMs;
    private long loadMs;
    private long firstSubmit = Long.MAX_VALUE;
    private long firstAssign = Long.MAX_VALUE;
    private long lastFinish;
    /** Idle gaps between a worker's job and its next start: short (≤ 100 ms) = dispatch turnover. */
    private long turnovers;
    private long turnoverMicros;
    private long waits;
    private long waitMicros;
    private final java.util.TreeMap<Long, long[]> turnoverBySecond = new java.util.TreeMap<>();
    /**
     * Time a job's end came after its due time: the simulated GPU ran longer than the job's nominal
     * time (on a loaded machine a parked thread wakes late; a precise clock thread did not change it).
     */
    private long overshootMicros;
    /** Per worker: its first assign and its last finish, for idle time before the first and after the last job. */
    private final Map<String, Long> firstAssignOf = new HashMap<>();
    private final Map<String, Long> lastFinishOf = new HashMap<>();
    /** Per second of submission (epoch s): {jobs, max submit-to-assign µs}, to see when latency spikes. */
    private final java.util.TreeMap<Long, long[]> assignBySecond = new java.util.TreeMap<>();

    private static Histogram histogram() {
      return new Histogram(3_600_000_000L, 3);
    }

    synchronized void started(boolean cold) {
      coldLoads += cold ? 1 : 0;
    }

    synchronized void assigned(String worker, String user, long waitMicros, long submittedMicros, long atMicros) {
      firstAssignOf.putIfAbsent(worker, atMicros);
      long wait = Math.max(0, waitMicros);
      assignLatency.recordValue(Math.min(wait, 3_600_000_000L));
      waitByUser.computeIfAbsent(user, u -> histogram()).recordValue(Math.min(wait, 3_600_000_000L));
      assigned++;
      firstSubmit = Math.min(firstSubmit, submittedMicros);
      firstAssign = Math.min(firstAssign, submittedMicros + wait);
      long[] second = assignBySecond.computeIfAbsent(submittedMicros / 1_000_000, k -> new long[2]);
      second[0]++;
      second[1] = Math.max(second[1], wait);
    }

    synchronized void idleGap(long micros, long atMicros) {
      if (micros <= 100_000) {
        turnovers++;
        turnoverMicros += micros;
        long[] second = turnoverBySecond.computeIfAbsent(atMicros / 1_000_000, k -> new long[2]);
        second[0]++;
        second[1] += micros;
      } else {
        waits++;
        waitMicros += micros;
      }
    }

    synchronized void finished(String worker, long latencyMicros, long at, long runMs, long loadMs,
        long overshootMicros) {
      lastFinishOf.put(worker, at);
      this.overshootMicros += Math.max(0, overshootMicros);
      jobLatency.recordValue(Math.min(Math.max(0, latencyMicros), 3_600_000_000L));
      finished++;
      busyMs += runMs;
      this.loadMs += loadMs;
      lastFinish = Math.max(lastFinish, at);
    }

    synchronized void reset() {
      assignLatency = histogram();
      jobLatency = histogram();
      waitByUser.clear();
      assigned = 0;
      finished = 0;
      coldLoads = 0;
      busyMs = 0;
      loadMs = 0;
      firstSubmit = Long.MAX_VALUE;
      firstAssign = Long.MAX_VALUE;
      lastFinish = 0;
      assignBySecond.clear();
      turnovers = 0;
      turnoverMicros = 0;
      waits = 0;
      waitMicros = 0;
      turnoverBySecond.clear();
      overshootMicros = 0;
      firstAssignOf.clear();
      lastFinishOf.clear();
    }

    synchronized JsonObject toJson() {
      JsonObject users = new JsonObject();
      waitByUser.forEach((u, h) -> users.put(u, percentiles(h)));
      return new JsonObject().put("assigned", assigned).put("finished", finished).put("cold_loads", coldLoads)
          .put("busy_ms", busyMs).put("load_ms", loadMs).put("first_submit_us", firstSubmit == Long.MAX_VALUE ? 0
              : firstSubmit).put("last_finish_us", lastFinish)
          .put("first_assign_us", firstAssign == Long.MAX_VALUE ? 0 : firstAssign)
          .put("submit_to_assign_us", percentiles(assignLatency)).put("job_latency_us", percentiles(jobLatency))
          .put("wait_by_user_us", users).put("assign_by_second", bySecond(assignBySecond, v -> v[1] / 1000))
          .put("idle_gaps", new JsonObject().put("turnovers", turnovers).put("turnover_ms_total", turnoverMicros / 1000)
              .put("timer_overshoot_ms_total", overshootMicros / 1000)
              .put("before_first_assign_ms_total", firstAssignOf.values().stream()
                  .mapToLong(t -> t - Math.min(firstAssign, t)).sum() / 1000)
              .put("after_last_finish_ms_total", lastFinishOf.values().stream()
                  .mapToLong(t -> lastFinish - t).sum() / 1000)
              .put("longer_waits", waits).put("longer_wait_ms_total", waitMicros / 1000)
              .put("turnover_ms_by_second", bySecond(turnoverBySecond, v -> v[1] / Math.max(1, v[0]) / 1000.0)));
    }

    /** Rows of {seconds since the first, count, value}, from a map of epoch second to {count, ...}. */
    private static JsonArray bySecond(java.util.TreeMap<Long, long[]> seconds,
        java.util.function.Function<long[], Object> value) {
      JsonArray out = new JsonArray();
      long first = seconds.isEmpty() ? 0 : seconds.firstKey();
      seconds.forEach((second, v) -> out.add(new JsonArray().add(second - first).add(v[0]).add(value.apply(v))));
      return out;
    }

    private static JsonObject percentiles(Histogram h) {
      return new JsonObject().put("count", h.getTotalCount()).put("p50", h.getValueAtPercentile(50))
          .put("p90", h.getValueAtPercentile(90)).put("p99", h.getValueAtPercentile(99)).put("max", h.getMaxValue());
    }
  }
}
