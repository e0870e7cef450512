package ai.pingvas.generation;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Everything published on a job-events topic, read with a plain Kafka consumer from the beginning. */
public final class EventLog implements AutoCloseable {
  private final List<JsonObject> events = new CopyOnWriteArrayList<>();
  private final Thread reader;
  private volatile boolean running = true;

  public EventLog(String bootstrap, String topic) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", "test-eventlog-" + System.nanoTime());
    props.put("auto.offset.reset", "earliest");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    reader = new Thread(() -> {
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
        consumer.subscribe(List.of(topic));
        while (running) {
          for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
            events.add(new JsonObject(record.value()));
          }
        }
      } catch (RuntimeException e) {
        if (running) {
          throw e;
        }
      }
    }, "event-log-" + topic);
    reader.setDaemon(true);
    reader.start();
  }

  List<JsonObject> events() {
    return List.copyOf(events);
  }

  List<JsonObject> of(String jobId) {
    return events.stream().filter(e -> jobId.equals(e.getString("job_id"))).toList();
  }

  long count(Predicate<JsonObject> match) {
    return events.stream().filter(match).count();
  }

  /** Waits until {@code condition} holds over the events seen so far. */
  public void await(Predicate<List<JsonObject>> condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(events())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + " (" + events.size() + " events seen)");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Job id to its terminal event type, for jobs that have one. */
  Map<String, String> terminal() {
    Map<String, String> out = new java.util.HashMap<>();
    for (JsonObject e : events) {
      String type = e.getString("type");
      if (type.equals("job.succeeded") || type.equals("job.failed") || type.equals("job.canceled")) {
        out.put(e.getString("job_id"), type);
      }
    }
    return out;
  }

  @Override
  public void close() {
    running = false;
    try {
      reader.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
