package ai.pingvas.payments.events;

import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.platform.ids.Uuids;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles reservations from the router's job events: {@code job.succeeded} captures (or, when the
 * hold was already given back, charges the balance late), {@code job.failed} and {@code job.canceled}
 * release. Idempotent (only an open reservation moves,
 * and each movement has a unique ledger reference), so at-least-once delivery and replays never
 * charge twice; offsets are committed only after a batch is settled.
 */
public final class SettlementVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SettlementVerticle.class);

  private final KafkaSettings kafka;
  private final String topic;
  private final String group;
  private final BillingStore store;
  private final Counter captured;
  private final Counter released;
  private final Counter capturedLate;
  private final Counter lateShortfall;
  private KafkaConsumer<String, String> consumer;

  public SettlementVerticle(KafkaSettings kafka, String topic, String group, BillingStore store,
      MeterRegistry registry) {
    this.kafka = kafka;
    this.topic = topic;
    this.group = group;
    this.store = store;
    this.captured = Counter.builder("pingvas_billing_settlements_total").tag("outcome", "captured")
        .description("reservations settled from job events").register(registry);
    this.released = Counter.builder("pingvas_billing_settlements_total").tag("outcome", "released")
        .description("reservations settled from job events").register(registry);
    this.capturedLate = Counter.builder("pingvas_billing_settlements_total").tag("outcome", "captured_late")
        .description("reservations settled from job events").register(registry);
    this.lateShortfall = Counter.builder("pingvas_billing_late_capture_shortfall_credits_total")
        .description("credits a late capture could not charge because the balance was short (written off)")
        .register(registry);
  }

  @Override
  public Future<?> start() {
    consumer = KafkaConsumer.create(vertx, kafka.consumer(group, "earliest"));
    consumer.handler(record -> {
    });
    consumer.batchHandler(this::settle);
    consumer.exceptionHandler(err -> LOG.warn("settlement consumer: {}", err.toString()));
    return consumer.subscribe(topic);
  }

  private void settle(KafkaConsumerRecords<String, String> records) {
    if (records.isEmpty()) {
      return;
    }
    consumer.pause();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> record = records.recordAt(i);
      chain = chain.compose(v -> settleOne(record));
    }
    chain.compose(v -> consumer.commit()).onComplete(ar -> {
      if (ar.failed()) {
        LOG.atWarn().addKeyValue("error", ar.cause().toString()).log("settlement failed; the batch will be replayed");
        consumer.close();
        vertx.setTimer(1_000, id -> start());
      } else {
        consumer.resume();
      }
    });
  }

  private Future<Void> settleOne(KafkaConsumerRecord<String, String> record) {
    JsonObject event;
    try {
      event = new JsonObject(record.value());
    } catch (RuntimeException e) {
      LOG.warn("skipping malformed event at {}-{}@{}", record.topic(), record.partition(), record.offset());
      return Future.succeededFuture();
    }
    // an event no hold could belong to is skipped like malformed JSON: failing it would fail (and
    // replay, for ever) the whole batch, and with it every other job's settlement
    String jobId = event.getValue("job_id") instanceof String id && Uuids.isUuid(id) ? id : null;
    String type = event.getValue("type") instanceof String t ? t : "";
    if (jobId == null) {
      if (event.containsKey("job_id")) {
        LOG.warn("skipping an event without a valid job_id at {}-{}@{}", record.topic(), record.partition(),
            record.offset());
      }
      return Future.succeededFuture();
    }
    return switch (type) {
      case "job.succeeded" -> store.capture(jobId).compose(moved -> {
        if (moved) {
          captured.increment();
          return Future.succeededFuture();
        }
        // no open hold: charge a success whose hold was already given back (a re-run failed job, or
        // one that outlived its hold); a replayed success finds it captured and changes nothing
        return store.captureLate(jobId).map(late -> {
          if (late != null) {
            capturedLate.increment();
            lateShortfall.increment(late.amount() - late.charged());
            LOG.atInfo().addKeyValue("job_id", jobId).addKeyValue("user_id", late.userId())
                .addKeyValue("price", late.amount()).addKeyValue("charged", late.charged())
                .log("charged a job that succeeded after its reservation was given back");
          }
          return (Void) null;
        });
      });
      case "job.failed", "job.canceled" -> store.release(jobId, false).map(moved -> {
        if (moved) {
          released.increment();
        }
        return (Void) null;
      });
      default -> Future.succeededFuture();
    };
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.close();
  }
}
