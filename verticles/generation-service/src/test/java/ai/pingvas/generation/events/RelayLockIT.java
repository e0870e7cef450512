package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.platform.db.ConnectionWatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The outbox relay's leadership is a session-level advisory lock on a connection of its own. Giving
 * it up (after a Kafka failure) must release the lock: otherwise no replica relays again and the
 * outbox stops draining.
 */
class RelayLockIT {
  @Test
  void givingTheRelayUpReleasesItsLockForAnyReplica() throws Exception {
    String url = SharedInfra.newDatabase("relaylock");
    String db = url.substring(url.lastIndexOf('/') + 1);
    Vertx vertx = Vertx.vertx();
    PgConnectOptions connect = PgConnectOptions.fromUri(url).setUser(PostgresServer.USER)
        .setPassword(PostgresServer.PASSWORD);
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(connect).using(vertx).build();
    try (Connection other = DriverManager.getConnection(SharedInfra.get().postgres().jdbcUrl(db), "postgres", "")) {
      // deployed for its Vert.x instance; it polls once an hour, so only the calls below take the lock
      OutboxRelayVerticle relay = new OutboxRelayVerticle(pool, connect,
          new ConnectionWatch(Duration.ofMinutes(1), new SimpleMeterRegistry()), null, "unused", new SimpleMeterRegistry(),
          TimeUnit.HOURS.toMillis(1));
      join(vertx.deployVerticle(relay));
      assertThat(join(relay.ensureLeader())).isTrue();
      assertThat(tryLock(other)).as("another replica while this one relays").isFalse();

      join(relay.dropLock());
      assertThat(tryLock(other)).as("another replica after this one gave the relay up").isTrue();
      unlock(other);
      // and this replica can lead again later, on a new connection
      assertThat(join(relay.ensureLeader())).isTrue();
      join(relay.dropLock());
    } finally {
      join(pool.close());
      join(vertx.close());
    }
  }

  private static boolean tryLock(Connection c) throws Exception {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock("
        + OutboxRelayVerticle.LOCK_KEY + ")")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static void unlock(Connection c) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute("SELECT pg_advisory_unlock_all()");
    }
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
