package ai.pingvas.models.events;

import ai.pingvas.models.domain.WorkerEvent;
import ai.pingvas.models.store.ModelStore;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the workers' holdings from the routers' {@code worker.events} (key = worker id, so one
 * worker's events stay in order). Offsets are committed after the batch is stored: a crash replays,
 * and replaying is harmless (seen never overwrites a newer row, gone only drops its own session).
 */
public final class WorkerEventsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerEventsVerticle.class);

  private final KafkaSettings kafka;
  private final String topic;
  private final String group;
  private final ModelStore store;
  private final Duration holdingTtl;
  private final Counter applied;
  private KafkaConsumer<String, String> consumer;
  private long pruneTimer = -1;

  public WorkerEventsVerticle(KafkaSettings kafka, String topic, String group, ModelStore store, Duration holdingTtl,
      MeterRegistry registry) {
    this.kafka = kafka;
    this.topic = topic;
    this.group = group;
    this.store = store;
    this.holdingTtl = holdingTtl;
    this.applied = Counter.builder("pingvas_models_worker_events_total")
        .description("worker.events records applied to the holdings").register(registry);
  }

  @Override
  public Future<?> start() {
    long every = Math.max(1_000, holdingTtl.toMillis());
    pruneTimer = vertx.setPeriodic(every, id -> store.prune(holdingTtl.multipliedBy(10))
        .onFailure(err -> LOG.debug("pruning holdings failed: {}", err.toString())));
    return subscribe();
  }

  private Future<Void> subscribe() {
    consumer = KafkaConsumer.create(vertx, kafka.consumer(group, "earliest"));
    consumer.handler(record -> {
    });
    consumer.batchHandler(this::onBatch);
    consumer.exceptionHandler(err -> LOG.warn("worker events consumer: {}", err.toString()));
    return consumer.subscribe(topic);
  }

  private void onBatch(KafkaConsumerRecords<String, String> records) {
    List<WorkerEvent> events = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> record = records.recordAt(i);
      try {
        events.add(WorkerEvent.fromJson(new JsonObject(record.value())));
      } catch (RuntimeException e) {
        LOG.warn("skipping malformed worker event at {}-{}@{}", record.topic(), record.partition(), record.offset());
      }
    }
    if (events.isEmpty()) {
      consumer.commit();
      return;
    }
    KafkaConsumer<String, String> current = consumer;
    current.pause();
    store.apply(events).compose(v -> {
      applied.increment(events.size());
      return current.commit();
    }).onComplete(ar -> {
      if (ar.succeeded()) {
        current.resume();
        return;
      }
      LOG.atWarn().addKeyValue("error", ar.cause().toString()).log("applying worker events failed; replaying");
      current.close();
      vertx.setTimer(1_000, id -> subscribe());
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(pruneTimer);
    return consumer == null ? Future.succeededFuture() : consumer.close();
  }
}
