package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.generation.EventLog;
import ai.pingvas.generation.GenerationDatabase;
import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.generation.store.PgJobStore;
import ai.pingvas.platform.db.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox has no NOTIFY trigger: the replica that commits outbox rows wakes the relay itself.
 * Both relays here poll once an hour, so an event reaches Kafka only through a wake-up: in process
 * on the relaying replica, by the other replica's own NOTIFY otherwise.
 */
class OutboxWakeupIT {
  private final List<Vertx> replicas = new ArrayList<>();
  private final List<Pool> pools = new ArrayList<>();
  private final List<KafkaProducer<String, String>> producers = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (KafkaProducer<String, String> producer : producers) {
      join(producer.close());
    }
    for (Pool pool : pools) {
      join(pool.close());
    }
    for (Vertx vertx : replicas) {
      join(vertx.close());
    }
  }

  @Test
  void eachReplicasCommitsReachKafkaWithoutATriggerOrAPoll() throws Exception {
    String topic = "generation.events.wakeup" + System.nanoTime();
    Database database = GenerationDatabase.migrated("wakeup", 4);
    try (Connection jdbc = DriverManager.getConnection(database.jdbcUrl(), PostgresServer.USER,
        PostgresServer.PASSWORD); Statement sql = jdbc.createStatement();
        ResultSet triggers = sql.executeQuery("SELECT count(*) FROM pg_trigger "
            + "WHERE tgrelid = 'generation.outbox'::regclass AND NOT tgisinternal")) {
      triggers.next();
      assertThat(triggers.getInt(1)).as("triggers on the outbox").isZero();
    }

    try (EventLog events = new EventLog(SharedInfra.get().kafka().bootstrap(), topic)) {
      Replica a = replica(database, topic);
      NewJob first = job();
      join(a.store.insert(List.of(first)));
      await(events, first.id(), null, "the relaying replica's own commit");
      assertThat(join(a.relay.leads())).as("replica A relays").isTrue();

      Replica b = replica(database, topic);
      NewJob second = job();
      join(b.store.insert(List.of(second)));
      await(events, second.id(), null, "the other replica's commit, relayed by A after B's NOTIFY");
      assertThat(join(b.relay.leads())).as("replica B while A relays").isFalse();

      // the relay deletes published rows without waiting for their flush, on a connection of its
      // own: the pool's connections, which commit the jobs, still wait for theirs
      assertThat(join(a.relay.connectionSetting("synchronous_commit"))).isEqualTo("off");
      // and Postgres probes it: a relaying replica that vanishes without closing its connection (node
      // lost, partition) gives up the relay's lock in ~25 s, not after the OS's two hours
      assertThat(join(a.relay.connectionSetting("tcp_keepalives_idle"))).startsWith("10");
      assertThat(join(a.relay.connectionSetting("tcp_keepalives_count"))).isEqualTo("3");
      assertThat(join(a.pool.query("SHOW synchronous_commit").execute()).iterator().next().getString(0))
          .as("a pool connection").isEqualTo("on");

      // and a later state change of the first job, committed by B, goes the same way
      join(b.store.claim("router-b", List.of(first.id()), List.of("worker-1")));
      await(events, first.id(), "job.dispatched", "B's claim of A's job");
    }
  }

  private record Replica(PgJobStore store, OutboxRelayVerticle relay, Pool pool) {
  }

  private Replica replica(Database database, String topic) throws Exception {
    Vertx vertx = Vertx.vertx();
    replicas.add(vertx);
    Pool pool = database.pool(vertx);
    pools.add(pool);
    KafkaProducer<String, String> producer = KafkaProducer.create(vertx, Map.of(
        "bootstrap.servers", SharedInfra.get().kafka().bootstrap(),
        "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
        "value.serializer", "org.apache.kafka.common.serialization.StringSerializer",
        "acks", "all"));
    producers.add(producer);
    OutboxRelayVerticle relay = new OutboxRelayVerticle(pool, database.connectOptions(),
        database.watch(new SimpleMeterRegistry()), producer, topic, new SimpleMeterRegistry(), TimeUnit.HOURS.toMillis(1));
    join(vertx.deployVerticle(relay));
    return new Replica(new PgJobStore(pool, relay::written), relay, pool);
  }

  private static NewJob job() {
    JobParams params = new JobParams("sdxl-base", "a lighthouse", null, 512, 512, 4, 7.0, 1L, "euler", List.of(), 1,
        0);
    return new NewJob(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "pro", params, null, null, 3);
  }

  /** Waits up to 30 s for an event of {@code jobId} (of {@code type}, unless null) on the topic. */
  private static void await(EventLog events, String jobId, String type, String what) {
    events.await(seen -> seen.stream().anyMatch(e -> jobId.equals(e.getString("job_id"))
        && (type == null || type.equals(e.getString("type")))), Duration.ofSeconds(30), "an event of " + what);
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
