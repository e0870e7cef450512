package ai.pingvas.worker;

import ai.pingvas.protocol.ProtocolException;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.RunningJob;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.worker.engine.Engine;
import ai.pingvas.worker.engine.EngineException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's side of the worker protocol. Dials the router (any replica) with jittered
 * exponential backoff, says hello with what it runs, heartbeats, runs assignments on the engine,
 * uploads and reports. If the router stays unreachable longer than {@code disconnect-abort} it
 * abandons its attempts — before the router's own timeouts re-queue them elsewhere — so no job
 * ever runs on two live workers. Drain (router message or SIGTERM): finish, take nothing, leave.
 *
 * <p>With {@code worker.queue} &gt; 0 it also accepts that many assignments beyond its slots and
 * starts each as soon as a slot's engine work ends, while the previous attempt's images still upload
 * and its result travels to the router: the GPU does not idle between jobs. A queued attempt that
 * has not started is handed back on {@code revoke} or drain, and dropped with the connection (the
 * router then re-queues it), so it never runs after the router gave it to another worker.
 */
public final class RouterLinkVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RouterLinkVerticle.class);
  private static final io.vertx.core.buffer.Buffer PING = io.vertx.core.buffer.Buffer.buffer("pingvas");

  private final WorkerSettings settings;
  private final Engine engine;
  private final GpuInfo gpu;
  private final Runnable onDrained;
  private final Map<String, Attempt> attempts = new LinkedHashMap<>();
  private final AtomicInteger running = new AtomicInteger();
  /** Attempts assigned ahead, not started: they start in order as the engine frees. */
  private final ArrayDeque<Attempt> waiting = new ArrayDeque<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger engineJobs = new AtomicInteger();
  /** Attempts whose engine work runs (a slot each); their uploads do not hold a slot. */
  private int engineBusy;
  private final AtomicInteger connectedGauge = new AtomicInteger();
  private final Counter completed;
  private final Counter failed;
  private final Timer duration;
  private Uploader uploader;
  private WebSocketClient client;
  private WebSocket socket;
  private boolean welcomed;
  private long heartbeatEveryMs = 2_000;
  private long heartbeatTimer = -1;
  private long lastHeardMs;
  private int reconnects;
  private boolean draining;
  private boolean stopped;
  private Promise<Void> drained;
  private long watchdog;

  public RouterLinkVerticle(WorkerSettings settings, Engine engine, GpuInfo gpu, MeterRegistry registry,
      Runnable onDrained) {
    this.settings = settings;
    this.engine = engine;
    this.gpu = gpu;
    this.onDrained = onDrained;
    this.completed = Counter.builder("pingvas_worker_jobs_total").tag("outcome", "succeeded")
        .description("attempts this worker finished").register(registry);
    this.failed = Counter.builder("pingvas_worker_jobs_total").tag("outcome", "failed").register(registry);
    this.duration = Timer.builder("pingvas_worker_job_seconds").description("time from assign to report")
        .publishPercentileHistogram().register(registry);
    Gauge.builder("pingvas_worker_running_jobs", running, AtomicInteger::get)
        .description("attempts running on this worker").register(registry);
    Gauge.builder("pingvas_worker_engine_jobs", engineJobs, AtomicInteger::get)
        .description("attempts the engine renders now, one per slot (their uploads excluded)").register(registry);
    Gauge.builder("pingvas_worker_queued_jobs", queued, AtomicInteger::get)
        .description("attempts assigned ahead, waiting for the engine").register(registry);
    Gauge.builder("pingvas_worker_router_connected", connectedGauge, AtomicInteger::get)
        .description("1 while connected to a router").register(registry);
  }

  /** True while connected to a router (the readiness of a worker). */
  public boolean connected() {
    return socket != null && welcomed;
  }

  @Override
  public Future<?> start() {
    uploader = new Uploader(vertx);
    client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(5_000)
        .setMaxMessageSize(4 * 1024 * 1024).setMaxFrameSize(1024 * 1024));
    lastHeardMs = System.currentTimeMillis();
    watchdog = vertx.setPeriodic(500, id -> abandonIfCutOff());
    connect();
    return Future.succeededFuture();
  }

  // ---- connection -----------------------------------------------------------------------------

  /** The router to dial next: the list is tried in turn, so a dead replica is skipped. */
  private String nextRouter() {
    List<String> urls = settings.routerUrls();
    return urls.get(Math.floorMod(reconnects, urls.size()));
  }

  private void connect() {
    if (stopped) {
      return;
    }
    String router = nextRouter();
    WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(router)
        .putHeader("Authorization", "Bearer " + settings.token()).setTimeout(5_000);
    client.connect(options).onSuccess(ws -> {
      socket = ws;
      welcomed = false;
      reconnects = 0;
      lastHeardMs = System.currentTimeMillis();
      ws.textMessageHandler(this::onText);
      // the router answers each heartbeat's ping: silence on an open socket means a dead link
      ws.pongHandler(pong -> lastHeardMs = System.currentTimeMillis());
      ws.closeHandler(v -> onClosed(ws));
      ws.exceptionHandler(err -> LOG.debug("router socket error: {}", err.toString()));
      send(new WorkerMessage.Hello(WorkerMessage.PROTOCOL_VERSION, settings.workerId(), gpu.name(), gpu.vramMb(),
          gpu.vramFreeMb(), settings.slots(), engine.modelsLoaded(), engine.name(), runningRefs(), settings.queue()));
    }).onFailure(err -> {
      LOG.atInfo().addKeyValue("router", router).addKeyValue("error", err.getMessage())
          .log("router unreachable; retrying");
      reconnectLater();
    });
  }

  private void reconnectLater() {
    if (stopped) {
      return;
    }
    long cap = Math.min(settings.reconnectMax().toMillis(), settings.reconnectMin().toMillis() << Math.min(reconnects, 16));
    long delay = Math.max(settings.reconnectMin().toMillis() / 2, ThreadLocalRandom.current().nextLong(cap + 1));
    reconnects++;
    vertx.setTimer(delay, id -> connect());
  }

  private void onClosed(WebSocket ws) {
    if (socket != ws) {
      return;
    }
    detach();
    if (draining && attempts.isEmpty()) {
      finishDrain();
      return;
    }
    LOG.atWarn().addKeyValue("code", ws.closeStatusCode()).addKeyValue("reason", ws.closeReason())
        .log("router connection closed; reconnecting");
    reconnectLater();
  }

  /** Without the router for too long, our attempts will be re-queued elsewhere: stop them first. */
  private void abandonIfCutOff() {
    if (socket != null && !welcomed) {
      // Heartbeats (and their pings) start with the welcome. Until then this watchdog pings, so a
      // router that is alive but slow to welcome (its lookup of our running jobs retried while its
      // database is away) keeps answering pongs and keeps us, while one that took the upgrade and
      // then died without a FIN, or froze, falls silent below. Without this, nothing ever closed
      // such a socket: the worker stayed unready for good, its attempts ran on while the router
      // re-queued them elsewhere, and a SIGTERM waited its whole grace for a report it could not send.
      socket.writePing(PING);
    }
    long silentMs = System.currentTimeMillis() - lastHeardMs;
    if (socket != null && silentMs > Math.max(settings.disconnectAbort().toMillis(), 2 * heartbeatEveryMs)) {
      // a half-open link (no FIN ever came): the router hears no heartbeats either and will re-queue
      // our attempts after its heartbeat timeout, so give them up first and dial again
      LOG.atWarn().addKeyValue("silent_ms", silentMs).addKeyValue("attempts", attempts.size())
          .addKeyValue("welcomed", welcomed)
          .log(welcomed ? "router silent on an open connection (no pong); abandoning attempts and reconnecting"
              : "router silent since it took the connection (no welcome, no pong); abandoning attempts and reconnecting");
      WebSocket ws = socket;
      detach();
      abandonAll();
      ws.close((short) 1001, "router silent");
      reconnectLater();
      return;
    }
    if (socket != null || attempts.values().stream().allMatch(this::keptThroughCutOff)) {
      return;
    }
    if (silentMs > settings.disconnectAbort().toMillis()) {
      LOG.atWarn().addKeyValue("attempts", attempts.size())
          .log("router unreachable past the abort deadline; abandoning attempts");
      abandonAll();
    }
  }

  /**
   * The connection is gone (closed, or given up as silent): no heartbeats on it, and the queued
   * attempts go — never started, the router puts them back when it loses us, so they must not run
   * here later.
   */
  private void detach() {
    socket = null;
    welcomed = false;
    connectedGauge.set(0);
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (!waiting.isEmpty()) {
      LOG.atInfo().addKeyValue("attempts", waiting.size()).log("dropping queued attempts with the connection");
      dropWaiting();
    }
  }

  /**
   * A finished attempt whose report waits for the router: nothing runs any more, so it is kept when
   * the others are given up, and reported after the next welcome (the router refuses it if it has
   * re-queued the attempt meanwhile, and its welcome then says to drop it). Not while draining: the
   * worker is leaving and cannot wait for a router it has lost.
   */
  private boolean keptThroughCutOff(Attempt a) {
    return a.report != null && !draining;
  }

  /** Stops every attempt still running or waiting: the router will re-queue them elsewhere. */
  private void abandonAll() {
    for (Attempt a : List.copyOf(attempts.values())) {
      if (keptThroughCutOff(a)) {
        continue;
      }
      a.cancel.cancel();
      attempts.remove(a.job.jobId());
    }
    waiting.clear();
    counts();
    if (draining && attempts.isEmpty() && engineBusy == 0) {
      finishDrain(); // nothing left to finish: the router re-queues what we gave up
    } // else once the engine has stopped them, at their next step (see run)
  }

  private void onText(String text) {
    lastHeardMs = System.currentTimeMillis();
    RouterMessage message;
    try {
      message = RouterMessage.parse(text);
    } catch (ProtocolException e) {
      LOG.warn("ignoring a malformed router message: {}", e.getMessage());
      return;
    }
    if (message instanceof RouterMessage.Welcome welcome) {
      onWelcome(welcome);
    } else if (message instanceof RouterMessage.Assign assign) {
      onAssign(assign);
    } else if (message instanceof RouterMessage.Cancel cancel) {
      Attempt a = attempts.get(cancel.jobId());
      if (a != null && a.job.attempt() == cancel.attempt()) {
        LOG.atInfo().addKeyValue("job_id", cancel.jobId()).addKeyValue("reason", cancel.reason()).log("canceling");
        if (!handBack(a, "canceled", "canceled before it started", false)) {
          a.cancel.cancel();
          // the router counts its slot free now: the next job may start while this one winds down
          releaseSlot(a);
        }
      }
    } else if (message instanceof RouterMessage.Revoke revoke) {
      Attempt a = attempts.get(revoke.jobId());
      if (a != null && a.job.attempt() == revoke.attempt()) {
        boolean back = handBack(a, "revoked", "handed back before it started: " + revoke.reason(), true);
        LOG.atInfo().addKeyValue("job_id", revoke.jobId()).addKeyValue("handed_back", back)
            .log(back ? "revoked a queued attempt" : "revoke of an attempt that already started; it runs on");
      }
    } else if (message instanceof RouterMessage.Drain drain) {
      LOG.atInfo().addKeyValue("reason", drain.reason()).log("router asked this worker to drain");
      beginDrain();
    }
  }

  private void onWelcome(RouterMessage.Welcome welcome) {
    welcomed = true;
    connectedGauge.set(1);
    heartbeatEveryMs = Math.max(200, welcome.heartbeatIntervalMs());
    Set<String> abandon = new HashSet<>();
    welcome.abandon().forEach(r -> abandon.add(r.jobId()));
    for (Attempt a : List.copyOf(attempts.values())) {
      if (abandon.contains(a.job.jobId())) {
        a.cancel.cancel();
        attempts.remove(a.job.jobId());
        waiting.remove(a);
      } else if (a.report != null) {
        deliverReport(a);
      }
    }
    counts();
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    heartbeatTimer = vertx.setPeriodic(heartbeatEveryMs, id -> heartbeat());
    LOG.atInfo().addKeyValue("router_id", welcome.routerId()).addKeyValue("adopted", welcome.adopted().size())
        .addKeyValue("abandoned", abandon.size()).log("connected to router");
    heartbeat();
  }

  private void heartbeat() {
    if (send(new WorkerMessage.Heartbeat(gpu.vramFreeMb(), engine.modelsLoaded(), runningRefs(), draining,
        gpu.utilization()))) {
      socket.writePing(PING);
    }
  }

  private List<RunningJob> runningRefs() {
    List<RunningJob> refs = new ArrayList<>();
    attempts.values().forEach(a -> refs.add(a.ref()));
    return refs;
  }

  private boolean send(WorkerMessage message) {
    WebSocket ws = socket;
    if (ws == null || ws.isClosed()) {
      return false;
    }
    ws.writeTextMessage(message.toJson().encode());
    return true;
  }

  // ---- attempts -------------------------------------------------------------------------------

  private void onAssign(RouterMessage.Assign assign) {
    String jobId = assign.job().jobId();
    if (draining) {
      send(new WorkerMessage.Failure(jobId, assign.job().attempt(), "worker_draining",
          "the worker is draining and takes no new jobs", true));
      return;
    }
    Attempt previous = attempts.get(jobId);
    if (previous != null) {
      previous.cancel.cancel();
      waiting.remove(previous);
      releaseSlot(previous);
    }
    Attempt a = new Attempt(assign.job(), assign.upload());
    if (engineBusy >= settings.slots() && waiting.size() >= settings.queue()) {
      attempts.remove(jobId);
      counts();
      send(new WorkerMessage.Failure(jobId, a.job.attempt(), "worker_busy",
          "assigned beyond the worker's slots and queue (" + settings.slots() + " + " + settings.queue() + ")", true));
      return;
    }
    attempts.put(jobId, a);
    if (engineBusy < settings.slots()) {
      run(a);
    } else {
      waiting.add(a);
      LOG.atInfo().addKeyValue("job_id", jobId).addKeyValue("attempt", a.job.attempt())
          .addKeyValue("model", a.job.model()).log("queued job behind the running one");
    }
    counts();
  }

  /** The engine takes the attempt now; its slot frees when the engine is done, before the upload. */
  private void run(Attempt a) {
    String jobId = a.job.jobId();
    a.start(!engine.modelsLoaded().contains(a.job.model()));
    engineBusy++;
    LOG.atInfo().addKeyValue("job_id", jobId).addKeyValue("attempt", a.job.attempt())
        .addKeyValue("model", a.job.model()).log("running job");
    Future<List<Engine.RenderedImage>> generated = engine.generate(a.job, (step, total, preview) -> {
      a.stepped();
      // not before the welcome: the router is still looking up what we run (the next step reports anew)
      if (!a.cancel.canceled() && welcomed) {
        send(new WorkerMessage.Progress(jobId, a.job.attempt(), step, total, preview));
      }
    }, a.cancel);
    generated.onComplete(ar -> releaseSlot(a));
    generated
        .compose(images -> {
          a.cancel.check();
          return uploader.uploadAll(images, a.upload);
        })
        .onComplete(ar -> {
          duration.record(Duration.ofNanos(System.nanoTime() - a.startedNanos()));
          LOG.atInfo().addKeyValue("job_id", jobId).addKeyValue("attempt", a.job.attempt())
              .addKeyValue("outcome", ar.succeeded() ? "done" : ar.cause() instanceof EngineException ee
                  ? ee.code() : "error").log("attempt ended");
          if (attempts.get(jobId) != a) {
            if (draining && attempts.isEmpty() && engineBusy == 0) {
              finishDrain(); // the last attempt given up while draining has stopped: leave
            }
            return;
          }
          if (ar.succeeded()) {
            completed.increment();
            // load_ms: start to first step of a job whose model the engine had to load (the
            // router learns each model's load cost from it); run_ms: the whole attempt
            a.report = new WorkerMessage.Result(jobId, a.job.attempt(), ar.result(), a.reportedLoadMs(),
                a.runningMs());
          } else {
            failed.increment();
            EngineException e = ar.cause() instanceof EngineException ee ? ee
                : new EngineException("engine_error", String.valueOf(ar.cause().getMessage()), true, ar.cause());
            if (!e.code().equals("canceled")) {
              LOG.atWarn().addKeyValue("job_id", jobId).addKeyValue("code", e.code()).log("job failed: {}", e.getMessage());
            }
            a.report = new WorkerMessage.Failure(jobId, a.job.attempt(), e.code(), e.getMessage(), e.retryable());
          }
          deliverReport(a);
        });
  }

  private void releaseSlot(Attempt a) {
    if (a.freeSlot()) {
      engineBusy--;
      startWaiting();
    }
  }

  /** Starts queued attempts while the engine has a free slot (not while draining or cut off). */
  private void startWaiting() {
    while (engineBusy < settings.slots() && !waiting.isEmpty() && !draining && socket != null) {
      run(waiting.poll());
    }
    counts();
  }

  /**
   * Hands a queued attempt that has not started back to the router with a failure of {@code code};
   * false if it is not waiting (it runs, or is unknown).
   */
  private boolean handBack(Attempt a, String code, String message, boolean retryable) {
    if (!waiting.remove(a)) {
      return false;
    }
    attempts.remove(a.job.jobId());
    counts();
    send(new WorkerMessage.Failure(a.job.jobId(), a.job.attempt(), code, message, retryable));
    return true;
  }

  private void dropWaiting() {
    for (Attempt a : waiting) {
      attempts.remove(a.job.jobId());
    }
    waiting.clear();
    counts();
  }

  private void counts() {
    queued.set(waiting.size());
    engineJobs.set(engineBusy);
    running.set(attempts.size() - waiting.size());
  }

  /** Sends a finished attempt's report; the attempt is let go once the socket has taken the report. */
  private void deliverReport(Attempt a) {
    WebSocket ws = socket;
    if (!welcomed || ws == null || ws.isClosed()) {
      return;
    }
    // a report written into a dying socket is lost with it: the attempt (and its report) stays until
    // the write succeeded, so the next welcome delivers it again if it failed
    ws.writeTextMessage(a.report.toJson().encode()).onSuccess(v -> {
      if (attempts.get(a.job.jobId()) == a) {
        attempts.remove(a.job.jobId());
        counts();
        if (draining && attempts.isEmpty()) {
          finishDrain();
        }
      }
    });
  }

  // ---- drain and stop -------------------------------------------------------------------------

  private void beginDrain() {
    if (draining) {
      return;
    }
    draining = true;
    heartbeat(); // first, so the router stops placing jobs here before it gets the queued ones back
    for (Attempt a : List.copyOf(waiting)) {
      handBack(a, "worker_draining", "the worker is draining; this attempt had not started", true);
    }
    if (attempts.isEmpty()) {
      finishDrain();
    }
  }

  private void finishDrain() {
    if (drained != null && drained.future().isComplete()) {
      return;
    }
    stopped = true;
    LOG.info("drained: no job running; leaving the router");
    if (socket != null) {
      socket.close((short) 1000, "drained");
    }
    if (drained != null) {
      drained.tryComplete();
    } else if (onDrained != null) {
      onDrained.run();
    }
  }

  @Override
  public Future<?> stop() {
    // the watchdog keeps running while the current job finishes: cut off from the router (which then
    // re-queues the job after its heartbeat timeout), the worker must give the job up, as at any other
    // time, or it would run on two GPUs at once and hold the shutdown for the whole grace
    drained = Promise.promise();
    beginDrain();
    if (attempts.isEmpty()) {
      drained.tryComplete();
    }
    return drained.future().compose(v -> {
      vertx.cancelTimer(watchdog);
      return client.close();
    });
  }
}
