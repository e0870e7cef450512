package ai.pingvas.generation.store;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.generation.GenerationDatabase;
import ai.pingvas.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A migrated database of its own, the real {@link PgJobStore} on it, and a JDBC connection to look
 * inside: a test class registers one ({@code @RegisterExtension}), closed after its tests.
 */
final class StoreFixture implements AfterAllCallback {
  final Vertx vertx = Vertx.vertx();
  final PgJobStore store;
  final Connection jdbc;

  StoreFixture(String name) {
    Database database = GenerationDatabase.migrated(name, 2);
    store = new PgJobStore(database.pool(vertx), () -> { });
    try {
      jdbc = DriverManager.getConnection(database.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
      try (Statement sql = jdbc.createStatement()) {
        sql.execute("SET search_path = generation");
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    jdbc.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
