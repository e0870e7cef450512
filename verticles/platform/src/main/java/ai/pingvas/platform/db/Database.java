package ai.pingvas.platform.db;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects a service to its Postgres schema: Flyway migrations (on a worker thread, never the event
 * loop) and a reactive pool whose connections have {@code search_path} set to the schema.
 */
public final class Database {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private final PgConnectOptions connectOptions;
  private final String schema;
  private final int poolSize;
  private final Duration responseTimeout;

  private Database(PgConnectOptions connectOptions, String schema, int poolSize, Duration responseTimeout) {
    this.connectOptions = connectOptions;
    this.schema = schema;
    this.poolSize = poolSize;
    this.responseTimeout = responseTimeout;
  }

  /**
   * Reads {@code pg.url}, {@code pg.user}, {@code pg.password}, {@code pg.schema}, {@code pg.pool-size},
   * {@code pg.plan-cache-mode}, {@code pg.statement-timeout}, {@code pg.response-timeout}.
   */
  public static Database fromConfig(Config config) {
    String url = config.string("pg.url");
    PgConnectOptions options;
    try {
      options = PgConnectOptions.fromUri(url);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("pg.url is not a postgresql:// URL: " + e.getMessage());
    }
    // Credentials in the URL win; otherwise take the separate (secret-backed) settings.
    if (options.getUser() == null || options.getUser().isEmpty() || !url.contains("@")) {
      options.setUser(config.string("pg.user"));
      options.setPassword(config.optionalString("pg.password"));
    }
    String schema = config.string("pg.schema");
    if (!schema.matches("[a-z_][a-z0-9_]*")) {
      throw new ConfigException("pg.schema must be a plain lower-case identifier, got '" + schema + "'");
    }
    options.setPipeliningLimit(256);
    // Statements are parsed once per connection, not on every execution. The client's default skips
    // statements over 2,048 characters, which left the router's submission insert re-parsed and
    // re-planned on every batch (~0.3 ms of Postgres CPU each).
    options.setCachePreparedStatements(true).setPreparedStatementCacheMaxSize(256)
        .setPreparedStatementCacheSqlLimit(16_384);
    options.setReconnectAttempts(0);
    String planCacheMode = config.string("pg.plan-cache-mode");
    if (!List.of("auto", "force_generic_plan", "force_custom_plan").contains(planCacheMode)) {
      throw new ConfigException("pg.plan-cache-mode must be auto, force_generic_plan or force_custom_plan, got '"
          + planCacheMode + "'");
    }
    Map<String, String> properties = new HashMap<>(Map.of("search_path", schema,
        "application_name", "pingvas"));
    if (!planCacheMode.equals("auto")) {
      // "auto" leaves the server's (or the role's) setting alone
      properties.put("plan_cache_mode", planCacheMode);
    }
    long statementTimeoutMs = config.duration("pg.statement-timeout").toMillis();
    if (statementTimeoutMs > 0) {
      properties.put("statement_timeout", Long.toString(statementTimeoutMs));
    }
    options.setProperties(properties);
    Duration responseTimeout = config.duration("pg.response-timeout");
    if (!responseTimeout.isZero() && statementTimeoutMs > 0 && responseTimeout.toMillis() <= statementTimeoutMs) {
      // a statement Postgres is still running sends nothing: it must be cancelled by the server first
      throw new ConfigException("pg.response-timeout (" + responseTimeout + ") must be longer than "
          + "pg.statement-timeout (" + Duration.ofMillis(statementTimeoutMs) + "), or 0s to turn it off");
    }
    return new Database(options, schema, config.integer("pg.pool-size"), responseTimeout);
  }

  public String schema() {
    return schema;
  }

  public PgConnectOptions connectOptions() {
    return connectOptions;
  }

  /** The JDBC URL Flyway uses for the same server. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + connectOptions.getHost() + ":" + connectOptions.getPort() + "/"
        + connectOptions.getDatabase();
  }

  /** Applies the migrations under {@code classpath:<location>} to the schema, off the event loop. */
  public Future<Integer> migrate(Vertx vertx, String location) {
    return vertx.executeBlocking(() -> migrateBlocking(location), false);
  }

  /** Blocking migration, for the {@code migrate} command and PreSync Jobs. */
  public int migrateBlocking(String location) {
    Flyway flyway = Flyway.configure()
        .dataSource(jdbcUrl(), connectOptions.getUser(), connectOptions.getPassword())
        .schemas(schema)
        .defaultSchema(schema)
        .createSchemas(true)
        .locations("classpath:" + location)
        .connectRetries(10)
        .load();
    MigrateResult result = flyway.migrate();
    LOG.atInfo().addKeyValue("schema", schema).addKeyValue("applied", result.migrationsExecuted)
        .addKeyValue("version", result.targetSchemaVersion)
        .log("database migrated");
    return result.migrationsExecuted;
  }

  /** Watches connections for answers owed longer than {@code pg.response-timeout}, counting closes in the registry. */
  public ConnectionWatch watch(MeterRegistry registry) {
    return new ConnectionWatch(responseTimeout, registry);
  }

  /** A pool for this schema whose connections are watched with a registry of its own (tests); the caller closes it. */
  public Pool pool(Vertx vertx) {
    return pool(vertx, watch(new SimpleMeterRegistry()));
  }

  /** A pool for this schema whose every connection is watched from when it joins; the caller closes it. */
  public Pool pool(Vertx vertx, ConnectionWatch watch) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(poolSize).setMaxWaitQueueSize(10_000)
            .setConnectionTimeout(5).setName("pg-" + schema).setShared(false))
        .connectingTo(connectOptions)
        .withConnectHandler(connection -> {
          watch.install(connection);
          connection.close(); // hands the new connection to the pool
        })
        .using(vertx)
        .build();
  }
}
