package ai.pingvas.generation.events;

import ai.pingvas.generation.dispatch.DispatchMessages.QueueEvent;
import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.domain.JobEvent;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
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
  private final int fetchMinBytes;
  private final Duration fetchMaxWait;
  private final StreamHub hub;
  private final PositionBoard positions;
  private final EventBuffer buffer;
  private final Counter consumed;
  private final Counter unparsed;
  private KafkaConsumer<String, String> consumer;

  public JobEventsVerticle(KafkaSettings kafka, String topic, int fetchMinBytes, Duration fetchMaxWait,
      StreamHub hub, PositionBoard positions, EventBuffer buffer, MeterRegistry registry) {
    this.kafka = kafka;
    this.fetchMinBytes = fetchMinBytes;
    this.fetchMaxWait = fetchMaxWait;
    this.topic = topic;
    this.hub = hub;
    this.positions = positions;
    this.buffer = buffer;
    this.consumed = Counter.builder("pingvas_events_consumed_total")
        .description("job events this replica received from Kafka").register(registry);
    this.unparsed = Counter.builder("pingvas_events_unparsed_total")
        .description("events routed by their headers without parsing them here (owner not streaming from this "
            + "replica; the dispatcher parses only queue changes it did not make itself)").register(registry);
    Gauge.builder("pingvas_resume_buffer_bytes", buffer, EventBuffer::bytes)
        .description("approximate heap of the recent job events kept for streams that resume")
        .baseUnit("bytes").register(registry);
    Gauge.builder("pingvas_resume_buffer_jobs", buffer, EventBuffer::jobs)
        .description("jobs with recent events kept for streams that resume").register(registry);
  }

  @Override
  public Future<?> start() {
    Map<String, String> config = kafka.consumer("unused", "latest");
    config.remove("group.id");
    config.put("client.id", config.get("client.id").replace("-unused", "-fanout-" + deploymentID()));
    // fetches wait for a batch (fewer fetch round trips for the broker and this replica under load);
    // on a quiet topic an event waits at most fetch.max.wait.ms for its fetch
    config.put("fetch.min.bytes", Integer.toString(fetchMinBytes));
    config.put("fetch.max.wait.ms", Long.toString(fetchMaxWait.toMillis()));
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

  /** What routing an event needs: its job (the record key), owner, sequence and type. */
  record Route(String jobId, String userId, Integer seq, String type) {
  }

  /**
   * Routes an event by its headers (type, owner, sequence; key = job id) and parses its JSON only
   * for an owner streaming from this replica. Every replica reads every event, and most are not
   * for its streams (progress and state changes of other replicas' users) or are changes its
   * dispatcher made itself: the dispatcher gets a queue change as received and parses it only if
   * it is news to it. An event without the headers is parsed to read them from its JSON.
   */
  private void handle(KafkaConsumerRecord<String, String> record) {
    consumed.increment();
    Route route = fromHeaders(record);
    JsonObject event = null;
    if (route == null) {
      event = parse(record.value(), record);
      if (event == null) {
        return;
      }
      route = new Route(event.getString("job_id"), event.getString("user_id"),
          event.getValue("seq") instanceof Number n ? n.intValue() : null, event.getString("type"));
    }
    if (route.jobId() == null || route.seq() == null) {
      return; // not a job event this replica can place
    }
    String preceding = header(record.record().headers(), OutboxRelayVerticle.HEADER_PRECEDED);
    if (preceding != null && route.userId() != null) {
      // the job.queued committed with this job.dispatched (placed at admission), published with it:
      // streams and resumes get it first, as its own event; the dispatcher needs only the dispatch
      keep(route, route.seq() - 1, preceding, null, record);
    }
    if (changesQueue(route.type())) {
      vertx.eventBus().send(DispatcherVerticle.EVENT, new QueueEvent(route.jobId(), route.seq(), record.value()));
    }
    if (route.userId() != null && !keep(route, route.seq(), record.value(), event, record)) {
      unparsed.increment();
    }
  }

  /**
   * Keeps an event of the route's job for resumes and, when its owner streams from this replica,
   * delivers it there ({@code parsed} if it was already, else parsed now); false when no stream of
   * the owner is here, so it was never parsed.
   */
  private boolean keep(Route route, int seq, String json, JsonObject parsed, KafkaConsumerRecord<String, String> record) {
    buffer.add(route.jobId(), route.userId(), seq, json);
    if (!hub.connected(route.userId())) {
      return false;
    }
    JsonObject event = parsed != null ? parsed : parse(json, record);
    if (event != null) {
      deliver(route.userId(), event);
    }
    return true;
  }

  /** The route from the record's key and headers, or null when one is missing. */
  static Route fromHeaders(KafkaConsumerRecord<String, String> record) {
    return fromHeaders(record.key(), record.record().headers());
  }

  /** Read from the header bytes: a known type is its constant and the seq is parsed in place (every replica reads every event). */
  static Route fromHeaders(String key, Headers headers) {
    String type = type(headers.lastHeader(OutboxRelayVerticle.HEADER_TYPE));
    String userId = header(headers, OutboxRelayVerticle.HEADER_USER);
    int seq = number(headers.lastHeader(OutboxRelayVerticle.HEADER_SEQ));
    if (type == null || userId == null || seq < 0 || key == null) {
      return null;
    }
    return new Route(key, userId, seq, type);
  }

  private static final String[] TYPES = {JobEvent.QUEUED, JobEvent.DISPATCHED, JobEvent.STARTED, JobEvent.PROGRESS,
      JobEvent.SUCCEEDED, JobEvent.FAILED, JobEvent.CANCELED};
  private static final byte[][] TYPE_BYTES = Arrays.stream(TYPES)
      .map(t -> t.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);

  private static String type(Header header) {
    if (header == null || header.value() == null) {
      return null;
    }
    byte[] value = header.value();
    for (int i = 0; i < TYPES.length; i++) {
      if (Arrays.equals(value, TYPE_BYTES[i])) {
        return TYPES[i];
      }
    }
    return new String(value, StandardCharsets.UTF_8);
  }

  /** A non-negative decimal header, or -1 when absent or not one. */
  private static int number(Header header) {
    if (header == null || header.value() == null || header.value().length == 0 || header.value().length > 9) {
      return -1;
    }
    int n = 0;
    for (byte b : header.value()) {
      if (b < '0' || b > '9') {
        return -1;
      }
      n = n * 10 + (b - '0');
    }
    return n;
  }

  private static JsonObject parse(String json, KafkaConsumerRecord<String, String> record) {
    try {
      return new JsonObject(json);
    } catch (RuntimeException e) {
      LOG.warn("skipping malformed event at {}-{}@{}", record.topic(), record.partition(), record.offset());
      return null;
    }
  }

  /**
   * Sends the event to the owner's streams on this replica (without its owner; a queued one with
   * its place). The event is this call's own (the dispatcher got the raw text).
   */
  private void deliver(String userId, JsonObject view) {
    view.remove("user_id");
    if (JobEvent.QUEUED.equals(view.getString("type"))) {
      PositionBoard.Place place = positions.get(view.getString("job_id"));
      if (place != null) {
        place.applyTo(view);
      }
    }
    hub.deliver(userId, view);
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
