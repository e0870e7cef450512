package ai.pingvas.platform.kafka;

import ai.pingvas.platform.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.TopicExistsException;

/** Producer, consumer and admin settings for a service, from {@code kafka.*} configuration. */
public final class KafkaSettings {
  private final String bootstrap;
  private final String clientId;
  private final int partitions;
  private final short replication;
  private final String compression;
  private final long lingerMs;

  private KafkaSettings(String bootstrap, String clientId, int partitions, short replication, String compression,
      long lingerMs) {
    this.bootstrap = bootstrap;
    this.clientId = clientId;
    this.partitions = partitions;
    this.replication = replication;
    this.compression = compression;
    this.lingerMs = lingerMs;
  }

  public static KafkaSettings fromConfig(Config config, String clientId) {
    return new KafkaSettings(config.string("kafka.bootstrap"), clientId,
        config.integer("kafka.partitions"), (short) config.integer("kafka.replication"),
        config.oneOf("kafka.compression", List.of("none", "lz4", "zstd", "snappy", "gzip")),
        config.duration("kafka.linger").toMillis());
  }

  public String bootstrap() {
    return bootstrap;
  }

  /** An idempotent, ordered producer: acks=all, so a send that succeeded is on the broker's log. */
  public Map<String, String> producer() {
    Map<String, String> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", clientId);
    config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    config.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    config.put("acks", "all");
    config.put("enable.idempotence", "true");
    config.put("max.in.flight.requests.per.connection", "5");
    config.put("linger.ms", Long.toString(lingerMs));
    config.put("batch.size", "65536");
    config.put("compression.type", compression);
    config.put("delivery.timeout.ms", "30000");
    config.put("request.timeout.ms", "10000");
    config.put("max.block.ms", "5000");
    config.put("reconnect.backoff.max.ms", "2000");
    return config;
  }

  /** A consumer in a group with manual commits (handlers commit after their effect is durable). */
  public Map<String, String> consumer(String groupId, String offsetReset) {
    Map<String, String> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("client.id", clientId + "-" + groupId);
    config.put("group.id", groupId);
    config.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("enable.auto.commit", "false");
    config.put("auto.offset.reset", offsetReset);
    config.put("max.poll.records", "500");
    config.put("fetch.max.wait.ms", "50");
    config.put("reconnect.backoff.max.ms", "2000");
    return config;
  }

  public Map<String, String> admin() {
    return Map.of("bootstrap.servers", bootstrap, "client.id", clientId + "-admin",
        "request.timeout.ms", "5000", "default.api.timeout.ms", "10000");
  }

  /** Creates the topics if they are missing (no-op when they exist). */
  public Future<Void> ensureTopics(Vertx vertx, List<String> topics) {
    KafkaAdminClient admin = KafkaAdminClient.create(vertx, admin());
    return admin.listTopics()
        .compose((Set<String> existing) -> {
          List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t))
              .map(t -> new NewTopic(t, partitions, replication)).toList();
          if (missing.isEmpty()) {
            return Future.<Void>succeededFuture();
          }
          return admin.createTopics(missing).recover(e -> e instanceof TopicExistsException
              || e.getCause() instanceof TopicExistsException ? Future.succeededFuture() : Future.failedFuture(e));
        })
        .eventually(admin::close);
  }
}
