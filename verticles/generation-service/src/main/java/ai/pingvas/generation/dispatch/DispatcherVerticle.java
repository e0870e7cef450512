package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.dispatch.DispatchMessages.Admit;
import ai.pingvas.generation.dispatch.DispatchMessages.Canceled;
import ai.pingvas.generation.dispatch.DispatchMessages.DrainWorker;
import ai.pingvas.generation.dispatch.DispatchMessages.Enqueued;
import ai.pingvas.generation.dispatch.DispatchMessages.Locate;
import ai.pingvas.generation.dispatch.DispatchMessages.Placed;
import ai.pingvas.generation.dispatch.DispatchMessages.Places;
import ai.pingvas.generation.dispatch.DispatchMessages.QueueEvent;
import ai.pingvas.generation.dispatch.DispatchMessages.Release;
import ai.pingvas.generation.domain.DispatchPolicy;
import ai.pingvas.generation.events.PositionBoard;
import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.generation.models.ModelCatalog;
import ai.pingvas.generation.store.JobStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;

/**
 * Hosts the {@link Dispatcher} on one event loop and connects it to the rest of the service by
 * local event-bus addresses: admissions and submissions from the API, frames from worker sockets,
 * events from the shared Kafka topic.
 */
public final class DispatcherVerticle extends VerticleBase {
  public static final String ADMIT = "generation.dispatch.admit";
  public static final String ENQUEUED = "generation.dispatch.enqueued";
  public static final String RELEASE = "generation.dispatch.release";
  public static final String PLACED = "generation.dispatch.placed";
  public static final String LOCATE = "generation.dispatch.locate";
  public static final String CANCELED = "generation.dispatch.canceled";
  public static final String DRAIN = "generation.dispatch.drain";
  public static final String SNAPSHOT = "generation.dispatch.snapshot";
  public static final String WORKER_FRAME = "generation.dispatch.worker.frame";
  public static final String WORKER_CLOSED = "generation.dispatch.worker.closed";
  /** The HTTP server is shutting down and will close this worker's socket. */
  public static final String WORKER_SHUTDOWN = "generation.dispatch.worker.shutdown";
  public static final String EVENT = "generation.dispatch.event";

  private final DispatchSettings settings;
  private final JobStore store;
  private final UploadSigner signer;
  private final GalleryClient gallery;
  private final StreamHub hub;
  private final PositionBoard board;
  private final MeterRegistry registry;
  private final DispatchPolicy policy;
  private final ModelCatalog models;
  private Dispatcher dispatcher;
  private long heartbeatTimer;
  private long positionTimer;

  public DispatcherVerticle(DispatchSettings settings, JobStore store, UploadSigner signer, GalleryClient gallery,
      StreamHub hub, PositionBoard board, MeterRegistry registry, DispatchPolicy policy, ModelCatalog models) {
    this.settings = settings;
    this.store = store;
    this.signer = signer;
    this.gallery = gallery;
    this.hub = hub;
    this.board = board;
    this.registry = registry;
    this.policy = policy;
    this.models = models;
  }

  /** Registers the local codecs of the dispatcher's messages (call once per Vert.x instance). */
  public static void registerCodecs(io.vertx.core.Vertx vertx) {
    DispatchMessages.registerCodecs(vertx);
  }

  @Override
  public Future<?> start() {
    dispatcher = new Dispatcher(vertx, settings, store, signer, gallery, hub, board, new DispatchMetrics(registry),
        policy, models);
    EventBus bus = vertx.eventBus();
    bus.<Admit>localConsumer(ADMIT, msg -> msg.reply(dispatcher.admit(msg.body().userId(), msg.body().tier(),
        msg.body().count(), msg.body().candidate())));
    bus.<Placed>localConsumer(PLACED, msg -> dispatcher.placed(msg.body().jobId(), msg.body().claimed()));
    bus.<Enqueued>localConsumer(ENQUEUED, msg -> msg.reply(new Places(dispatcher.enqueued(msg.body().userId(),
        msg.body().reserved(), msg.body().jobs()))));
    bus.<Release>localConsumer(RELEASE, msg -> dispatcher.release(msg.body().userId(), msg.body().count()));
    bus.<Locate>localConsumer(LOCATE, msg -> msg.reply(dispatcher.locate(msg.body().jobId())));
    bus.<Canceled>localConsumer(CANCELED, msg -> dispatcher.onCanceled(msg.body().jobId(), msg.body().attempt()));
    bus.<DrainWorker>localConsumer(DRAIN, msg -> msg.reply(dispatcher.drain(msg.body().workerId(),
        msg.body().reason())));
    bus.<String>localConsumer(SNAPSHOT, msg -> msg.reply(dispatcher.snapshot()));
    bus.<WorkerSession.Frame>localConsumer(WORKER_FRAME, msg -> dispatcher.onFrame(msg.body().session(),
        msg.body().message()));
    bus.<WorkerSession.Closed>localConsumer(WORKER_CLOSED, msg -> dispatcher.onClosed(msg.body().session()));
    bus.<WorkerSession.Closed>localConsumer(WORKER_SHUTDOWN, msg -> dispatcher.onServerShutdown(msg.body().session()));
    bus.<QueueEvent>localConsumer(EVENT, msg -> dispatcher.onQueueEvent(msg.body()));
    heartbeatTimer = vertx.setPeriodic(500, id -> dispatcher.checkHeartbeats());
    positionTimer = vertx.setPeriodic(1000, id -> dispatcher.refreshPositions());
    return dispatcher.load();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(positionTimer);
    dispatcher.stop();
    // Let in-flight claim rounds and inserts settle and revoked jobs come back from the workers'
    // queues, then close the worker connections (they reconnect to another replica).
    Promise<Void> settled = Promise.promise();
    long deadline = System.currentTimeMillis() + 5_000;
    waitIdle(settled, deadline);
    return settled.future().onComplete(v -> dispatcher.closeWorkers());
  }

  private void waitIdle(Promise<Void> settled, long deadline) {
    if (dispatcher.idle() || System.currentTimeMillis() > deadline) {
      settled.complete();
    } else {
      vertx.setTimer(20, id -> waitIdle(settled, deadline));
    }
  }
}
