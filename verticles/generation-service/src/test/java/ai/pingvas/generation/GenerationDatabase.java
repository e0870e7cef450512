package ai.pingvas.generation;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.db.Database;
import java.util.Map;

/** A new database on the shared test Postgres, with the router's schema migrated and its connection settings. */
public final class GenerationDatabase {
  private GenerationDatabase() {
  }

  public static Database migrated(String name, int poolSize) {
    Database database = Database.fromConfig(Config.of(Map.of("pg.url", SharedInfra.newDatabase(name),
        "pg.user", PostgresServer.USER, "pg.password", PostgresServer.PASSWORD, "pg.schema", "generation",
        "pg.pool-size", poolSize, "pg.plan-cache-mode", "force_generic_plan", "pg.statement-timeout", "30s",
        "pg.response-timeout", "35s")));
    database.migrateBlocking("db/generation");
    return database;
  }
}
