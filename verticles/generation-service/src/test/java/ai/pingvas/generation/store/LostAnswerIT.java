package ai.pingvas.generation.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.generation.GenerationDatabase;
import ai.pingvas.generation.TcpProxy;
import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.domain.JobStatus;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.db.Database;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.ClosedConnectionException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A submission insert whose connection goes before its answer comes (half-open after a failover,
 * closed by the response watchdog): committed, its jobs are accepted, since they will run;
 * never arrived, the failure stands and nothing is stored.
 */
class LostAnswerIT {
  private static final Vertx VERTX = Vertx.vertx();
  private static Database direct;
  private static TcpProxy link;
  private static Database viaLink;
  private static Connection jdbc;

  @BeforeAll
  static void start() throws Exception {
    direct = GenerationDatabase.migrated("lostanswer", 2);
    link = new TcpProxy(direct.connectOptions().getPort());
    viaLink = Database.fromConfig(Config.of(Map.of("pg.url", "postgresql://127.0.0.1:" + link.port() + "/"
            + direct.connectOptions().getDatabase(), "pg.user", PostgresServer.USER,
        "pg.password", PostgresServer.PASSWORD, "pg.schema", "generation", "pg.pool-size", 2,
        "pg.plan-cache-mode", "auto", "pg.statement-timeout", "0s", "pg.response-timeout", "1s")));
    jdbc = DriverManager.getConnection(direct.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
  }

  @AfterAll
  static void stop() throws Exception {
    jdbc.close();
    link.close();
    VERTX.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSubmissionWhoseInsertCommittedUnseenIsAccepted() throws Exception {
    PgJobStore store = new PgJobStore(viaLink.pool(VERTX), () -> { });
    StoreFixture.join(store.insert(List.of(job()))); // the pool's connection is open
    link.freezeReplies();

    NewJob job = job();
    List<JobStore.Inserted> out = StoreFixture.join(store.insert(List.of(job)));
    assertThat(out).singleElement().satisfies(inserted -> {
      assertThat(inserted.created()).isTrue();
      assertThat(inserted.job().id()).isEqualTo(job.id());
      assertThat(inserted.job().status()).isEqualTo(JobStatus.QUEUED);
    });
    assertThat(stored(job.id())).isTrue();
  }

  @Test
  void aSubmissionWhoseInsertNeverArrivedStillFailsAndStoresNothing() throws Exception {
    PgJobStore store = new PgJobStore(viaLink.pool(VERTX), () -> { });
    StoreFixture.join(store.insert(List.of(job())));
    link.freezeAll();

    NewJob job = job();
    assertThatThrownBy(() -> StoreFixture.join(store.insert(List.of(job)))).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(ClosedConnectionException.class);
    assertThat(stored(job.id())).isFalse();
  }

  private static NewJob job() {
    JobParams params = new JobParams("sdxl-base", "a lighthouse", null, 512, 512, 4, 7.0, 1L, "euler", List.of(), 1,
        0);
    return new NewJob(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "pro", params, null, null, 3);
  }

  private static boolean stored(String id) throws Exception {
    try (Statement sql = jdbc.createStatement();
        ResultSet r = sql.executeQuery("SELECT count(*) FROM generation.jobs WHERE id = '" + id + "'")) {
      r.next();
      return r.getLong(1) == 1;
    }
  }
}
