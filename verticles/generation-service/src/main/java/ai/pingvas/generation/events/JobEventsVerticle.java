package ai.pingvas.generation.events;

import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.domain.JobEvent;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every partition of {@code generation.events} (no consumer group: every replica needs
 * every event) and fans each event out to the owner's WebSockets on this replica and to the
 * dispatcher, whose view of the shared queue it keeps current. Starts at the end of the topic:
 * the dispatcher loads the rest from Postgres.
 */
public final class JobEventsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(JobEventsVerticle.class);

  private final KafkaSettings kafka;
  private final String topic;
  private final StreamHub hub;
  private final PositionBoard positions;
  private final EventBuffer buffer;
  private final Counter consumed;
  private final Counter unparsed;
  private KafkaConsumer<String, String> consumer;

  public JobEventsVerticle(KafkaSettings kafka, String topic, StreamHub hub, PositionBoard positions,
      EventBuffer buffer, MeterRegistry registry) {
    this.kafka = kafka;
    this.topic = topic;
    this.hub = hub;
    this.positions = positions;
    this.buffer = buffer;
    this.consumed = Counter.builder("pingvas_events_consumed_total")
        .description("job events this replica received from Kafka").register(registry);
    this.unparsed = Counter.builder("pingvas_events_unparsed_total")
        .description("events only kept for resumes, routed by their headers without parsing (no queue change, "
            + "owner not streaming here)").register(registry);
  }

  @Override
  public Future<?> start() {
    Map<String, String> config = kafka.consumer("unused", "latest");
    config.remove("group.id");
    config.put("client.id", config.get("client.id").replace("-unused", "-fanout-" + deploymentID()));
    consumer = KafkaConsumer.create(vertx, config);
    consumer.handler(this::handle);
    consumer.exceptionHandler(err -> LOG.warn("event consumer: {}", err.toString()));
    return consumer.partitionsFor(topic).compose(infos -> {
      Set<TopicPartition> partitions = new HashSet<>();
      infos.forEach(info -> partitions.add(new TopicPartition(topic, info.getPartition())));
      return consumer.assign(partitions).compose(v -> consumer.seekToEnd(partitions))
          .compose(v -> Future.all(partitions.stream().map(consumer::position).toList()));
    }).onSuccess(v -> LOG.info("following {} from its end", topic));
  }

  private void handle(KafkaConsumerRecord<String, String> record) {
    consumed.increment();
    if (keptUnparsed(record)) {
      return;
    }
    JsonObject event;
    try {
      event = new JsonObject(record.value());
    } catch (RuntimeException e) {
      LOG.warn("skipping malformed event at {}-{}@{}", record.topic(), record.partition(), record.offset());
      return;
    }
    if (changesQueue(event.getString("type"))) {
      vertx.eventBus().send(DispatcherVerticle.EVENT, event);
    }
    String userId = event.getString("user_id");
    String jobId = event.getString("job_id");
    if (jobId != null && userId != null && event.getValue("seq") instanceof Number seq) {
      buffer.add(jobId, userId, seq.intValue(), record.value());
    }
    if (userId != null && hub.connected(userId)) {
      JsonObject view = event.copy();
      view.remove("user_id");
      if (JobEvent.QUEUED.equals(view.getString("type"))) {
        PositionBoard.Place place = positions.get(view.getString("job_id"));
        if (place != null) {
          place.applyTo(view);
        }
      }
      hub.deliver(userId, view);
    }
  }

  /**
   * An event that changes no queue and whose owner has no stream here (most of them: progress of
   * other replicas' users) is only kept for resumes, routed by its headers without parsing its
   * JSON; every replica reads every event, so this is the part of its cost that grows with the
   * cluster. Events without the headers take the parsing path.
   */
  private boolean keptUnparsed(KafkaConsumerRecord<String, String> record) {
    Headers headers = record.record().headers();
    String type = header(headers, OutboxRelayVerticle.HEADER_TYPE);
    String userId = header(headers, OutboxRelayVerticle.HEADER_USER);
    String seq = header(headers, OutboxRelayVerticle.HEADER_SEQ);
    if (type == null || userId == null || seq == null || record.key() == null || changesQueue(type)
        || hub.connected(userId)) {
      return false;
    }
    try {
      buffer.add(record.key(), userId, Integer.parseInt(seq), record.value());
    } catch (NumberFormatException e) {
      return false;
    }
    unparsed.increment();
    return true;
  }

  private static String header(Headers headers, String name) {
    Header header = headers.lastHeader(name);
    return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** Only these events change the dispatcher's view; progress (most of the traffic) does not. */
  private static boolean changesQueue(String type) {
    return type != null && switch (type) {
      case JobEvent.QUEUED, JobEvent.DISPATCHED, JobEvent.SUCCEEDED, JobEvent.FAILED, JobEvent.CANCELED -> true;
      default -> false;
    };
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.close();
  }
}
