package ai.pingvas.generation.models;

import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.dispatch.WorkerSession;
import ai.pingvas.platform.kafka.KafkaSettings;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the state of this replica's workers to {@code worker.events} (key = worker id) so that
 * model-service knows which workers hold which models across all replicas. It taps the frames the
 * worker gateway hands the dispatcher (an outbound interceptor on the dispatcher's addresses), so
 * dispatch never waits on it: {@code worker.seen} on hello, on every change of a worker's models
 * and at least every {@code publish-interval}; {@code worker.gone} when its socket closes.
 */
public final class WorkerStateVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerStateVerticle.class);

  private final KafkaSettings kafka;
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final String routerId;
  private final long publishEveryMs;
  private final Map<String, Worker> sessions = new HashMap<>();
  private Handler<DeliveryContext<Object>> tap;

  /** What this replica last published about one worker connection. */
  private static final class Worker {
    final String workerId;
    final String gpu;
    final String engine;
    final int vramMb;
    List<String> models;
    int vramFreeMb;
    long publishedMs;

    Worker(WorkerMessage.Hello hello) {
      this.workerId = hello.workerId();
      this.gpu = hello.gpu();
      this.engine = hello.engine();
      this.vramMb = hello.vramMb();
      this.models = hello.modelsLoaded();
      this.vramFreeMb = hello.vramFreeMb();
    }
  }

  public WorkerStateVerticle(KafkaSettings kafka, KafkaProducer<String, String> producer, String topic,
      String routerId, Duration publishInterval) {
    this.kafka = kafka;
    this.producer = producer;
    this.topic = topic;
    this.routerId = routerId;
    this.publishEveryMs = publishInterval.toMillis();
  }

  @Override
  public Future<?> start() {
    Context context = this.context;
    tap = delivery -> {
      Object body = delivery.body();
      // only hellos, heartbeats and closes: results and progress (most frames) would cost a hop each
      if (body instanceof WorkerSession.Frame frame ? frame.message() instanceof WorkerMessage.Hello
          || frame.message() instanceof WorkerMessage.Heartbeat : body instanceof WorkerSession.Closed) {
        context.runOnContext(v -> observe(body));
      }
      delivery.next();
    };
    return kafka.ensureTopics(vertx, List.of(topic)).onSuccess(v -> vertx.eventBus().addOutboundInterceptor(tap));
  }

  private void observe(Object body) {
    if (body instanceof WorkerSession.Frame frame) {
      String session = frame.session().id();
      if (frame.message() instanceof WorkerMessage.Hello hello) {
        Worker worker = new Worker(hello);
        sessions.put(session, worker);
        publishSeen(session, worker);
      } else if (frame.message() instanceof WorkerMessage.Heartbeat hb) {
        Worker worker = sessions.get(session);
        if (worker != null) {
          boolean changed = !worker.models.equals(hb.modelsLoaded());
          worker.models = hb.modelsLoaded();
          worker.vramFreeMb = hb.vramFreeMb();
          if (changed || System.currentTimeMillis() - worker.publishedMs >= publishEveryMs) {
            publishSeen(session, worker);
          }
        }
      }
    } else if (body instanceof WorkerSession.Closed closed) {
      Worker worker = sessions.remove(closed.session().id());
      if (worker != null) {
        send(worker.workerId, new JsonObject().put("type", "worker.gone").put("worker_id", worker.workerId)
            .put("session_id", closed.session().id()).put("router_id", routerId).put("ts", Instant.now().toString()));
      }
    }
  }

  private void publishSeen(String session, Worker worker) {
    worker.publishedMs = System.currentTimeMillis();
    Context context = this.context;
    send(worker.workerId, new JsonObject().put("type", "worker.seen").put("worker_id", worker.workerId)
        .put("session_id", session).put("router_id", routerId).put("engine", worker.engine).put("gpu", worker.gpu)
        .put("vram_mb", worker.vramMb).put("vram_free_mb", worker.vramFreeMb)
        .put("models_loaded", new JsonArray(worker.models)).put("ts", Instant.now().toString()))
        .onFailure(err -> context.runOnContext(v -> worker.publishedMs = 0));
  }

  /** Sends one event; a failed seen is sent again with the worker's next heartbeat. */
  private Future<?> send(String workerId, JsonObject event) {
    return producer.send(KafkaProducerRecord.create(topic, workerId, event.encode()))
        .onFailure(err -> LOG.atDebug().addKeyValue("worker_id", workerId).addKeyValue("error", err.toString())
            .log("could not publish worker state"));
  }

  @Override
  public Future<?> stop() {
    if (tap != null) {
      vertx.eventBus().removeOutboundInterceptor(tap);
    }
    return Future.succeededFuture();
  }
}
