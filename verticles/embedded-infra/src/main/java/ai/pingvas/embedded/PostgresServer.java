package ai.pingvas.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded PostgreSQL server (zonky binaries) whose data directory survives restarts. It owns a
 * {@code pingvas} role and database; tests can make throw-away databases beside it.
 */
public final class PostgresServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresServer.class);
  public static final String USER = "pingvas";
  public static final String PASSWORD = "pingvas";
  public static final String DATABASE = "pingvas";

  private final Path dataDir;
  private final int port;
  private final boolean durable;
  private EmbeddedPostgres postgres;

  private PostgresServer(Path dataDir, int port, boolean durable) {
    this.dataDir = dataDir;
    this.port = port;
    this.durable = durable;
  }

  /**
   * Starts (or restarts on existing data) a server. {@code durable=false} turns fsync off, which is
   * only acceptable for throw-away test data.
   */
  public static PostgresServer start(Path dataDir, int port, boolean durable) {
    PostgresServer server = new PostgresServer(dataDir, port > 0 ? port : Ports.free(), durable);
    server.startProcess();
    server.bootstrap();
    return server;
  }

  private void startProcess() {
    try {
      Files.createDirectories(dataDir);
      killStalePostmaster();
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setPGStartupWait(Duration.ofSeconds(60))
          .setServerConfig("max_connections", "400")
          .setServerConfig("shared_buffers", "256MB")
          .setServerConfig("synchronous_commit", "on")
          // as a production server would be set for a write-heavy queue (infra/ sets the same on RDS):
          // checkpoints by time rather than every ~1 GB of WAL, since after each one the first change to
          // every page writes the whole page again (most of the WAL per job at default settings);
          // compressed full-page images; autovacuum looks at tables every 10 s, not once a minute
          .setServerConfig("max_wal_size", "4GB")
          .setServerConfig("checkpoint_timeout", "15min")
          .setServerConfig("wal_compression", "on")
          .setServerConfig("autovacuum_naptime", "10s")
          .setServerConfig("listen_addresses", "127.0.0.1")
          .setServerConfig("log_min_messages", "warning");
      if (System.getenv("PINGVAS_PG_STAT_STATEMENTS") != null) {
        // for profiling (CREATE EXTENSION pg_stat_statements in the database to read it)
        builder.setServerConfig("shared_preload_libraries", "pg_stat_statements")
            .setServerConfig("pg_stat_statements.track_planning", "on");
      }
      extraSettings(System.getenv("PINGVAS_EMBEDDED_PG_SETTINGS")).forEach(builder::setServerConfig);
      if (durable) {
        // zonky starts the postmaster with -F (fsync off); a later -c setting overrides it
        builder.setServerConfig("fsync", "on").setServerConfig("full_page_writes", "on");
      } else {
        builder.setServerConfig("fsync", "off").setServerConfig("full_page_writes", "off");
      }
      postgres = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("embedded PostgreSQL failed to start in " + dataDir, e);
    }
  }

  /** Creates the application role and database on first start. */
  private void bootstrap() {
    try (Connection c = admin(); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + USER + "'")) {
        if (!rs.next()) {
          s.execute("CREATE ROLE " + USER + " LOGIN CREATEDB PASSWORD '" + PASSWORD + "'");
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
        if (!rs.next()) {
          s.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot bootstrap embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** A fresh database owned by the application role; returns its postgresql:// URL. */
  public String createDatabase(String name) {
    return createDatabase(name, null);
  }

  /**
   * A fresh database whose character classification ({@code LC_CTYPE}, e.g. {@code C.utf8}: what
   * {@code lower()} and {@code upper()} do beyond ASCII) is the given locale's instead of the
   * cluster's, as a production database in a UTF-8 locale has; null keeps the cluster's.
   */
  public String createDatabase(String name, String ctype) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("database name must be a plain identifier: " + name);
    }
    if (ctype != null && !ctype.matches("[A-Za-z0-9_.@-]+")) {
      throw new IllegalArgumentException("not a locale name: " + ctype);
    }
    try (Connection c = admin(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + name + " OWNER " + USER
          + (ctype == null ? "" : " TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE '" + ctype + "'"));
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
    return url(name);
  }

  /** The running server's values of the named settings ({@code SHOW}), in the order asked. */
  public Map<String, String> settings(List<String> names) {
    Map<String, String> values = new LinkedHashMap<>();
    try (Connection c = admin(); Statement s = c.createStatement()) {
      for (String name : names) {
        if (!name.matches("[a-z_]+")) {
          throw new IllegalArgumentException("not a setting name: " + name);
        }
        try (ResultSet rs = s.executeQuery("SHOW " + name)) {
          rs.next();
          values.put(name, rs.getString(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read settings: " + e.getMessage(), e);
    }
    return values;
  }

  /** Runs SQL as the superuser against a database (test set-up and inspection). */
  public void execute(String database, List<String> statements) {
    try (Connection c = DriverManager.getConnection(jdbcUrl(database), "postgres", "");
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private Connection admin() throws SQLException {
    return DriverManager.getConnection(jdbcUrl("postgres"), "postgres", "");
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** The application database's URL (credentials passed separately). */
  public String url() {
    return url(DATABASE);
  }

  public String url(String database) {
    return "postgresql://127.0.0.1:" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  /** SIGKILLs the postmaster, as a crash would (no shutdown checkpoint). */
  public void kill() {
    long pid = postmasterPid();
    if (pid > 0) {
      ProcessHandle.of(pid).ifPresent(p -> {
        p.destroyForcibly();
        p.onExit().join();
      });
    }
    // release the handle's data-directory lock; its stop finds the server already gone
    try {
      if (postgres != null) {
        postgres.close();
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing the killed PostgreSQL handle: {}", e.toString());
    }
    postgres = null;
  }

  /** Starts the server again on the same data directory and port (after {@link #kill()} or stop). */
  public void restart() {
    if (postgres != null) {
      stop();
    }
    startProcess();
  }

  public void stop() {
    if (postgres != null) {
      try {
        postgres.close();
      } catch (IOException e) {
        LOG.warn("embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
      }
      postgres = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** The postmaster's process id, or -1 when the server is not running. */
  public long pid() {
    return postmasterPid();
  }

  private long postmasterPid() {
    Path pidFile = dataDir.resolve("postmaster.pid");
    try {
      if (!Files.exists(pidFile)) {
        return -1;
      }
      String first = Files.readAllLines(pidFile).get(0).trim();
      return Long.parseLong(first);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A postmaster left behind by a killed dev stack still holds the data directory: stop it. */
  private void killStalePostmaster() {
    long pid = postmasterPid();
    if (pid > 0) {
      ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .filter(p -> p.info().command().map(c -> c.contains("postgres")).orElse(false)).ifPresent(p -> {
        LOG.warn("stopping a PostgreSQL (pid {}) left running on {}", pid, dataDir);
        p.destroy();
        try {
          p.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          p.destroyForcibly();
        }
      });
      try {
        Files.deleteIfExists(dataDir.resolve("postmaster.pid"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Server settings from {@code PINGVAS_EMBEDDED_PG_SETTINGS} ({@code name=value[,name=value...]}), in
   * order; {@code fsync} and {@code full_page_writes} follow the durable mode and are refused here.
   */
  static Map<String, String> extraSettings(String spec) {
    Map<String, String> settings = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return settings;
    }
    for (String setting : spec.split(",")) {
      String[] kv = setting.split("=", 2);
      if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
        throw new IllegalArgumentException(
            "PINGVAS_EMBEDDED_PG_SETTINGS: expected name=value[,name=value...], got '" + setting + "'");
      }
      String name = kv[0].trim();
      if (name.equals("fsync") || name.equals("full_page_writes")) {
        throw new IllegalArgumentException(
            "PINGVAS_EMBEDDED_PG_SETTINGS: " + name + " follows the durable mode and cannot be set here");
      }
      settings.put(name, kv[1].trim());
    }
    return settings;
  }
}
