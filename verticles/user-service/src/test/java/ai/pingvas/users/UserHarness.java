package ai.pingvas.users;

import ai.pingvas.testing.Http;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Starts a real user-service on the shared embedded Postgres, configured through environment variables. */
final class UserHarness implements AutoCloseable {
  static final String INTERNAL_TOKEN = "test-internal-token";
  static final String KEY_SECRET = "test-signing-key-secret";
  static final String ADMIN_KEY = "pv_test_admin_" + UUID.randomUUID().toString().replace("-", "");

  final String dbUrl;
  final int port = Ports.free();
  final Map<String, String> env = new HashMap<>();
  final Http http;
  ServiceRuntime runtime;

  UserHarness(String name) {
    this(SharedInfra.newDatabase(name), 0);
  }

  /** On a new database whose character classification is {@code ctype}'s (e.g. {@code C.utf8}). */
  static UserHarness withCtype(String name, String ctype) {
    return new UserHarness(SharedInfra.newDatabase(name, ctype), 0);
  }

  private UserHarness(String dbUrl, int unused) {
    this.dbUrl = dbUrl;
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_PG_URL", dbUrl);
    env.put("PINGVAS_PG_USER", PostgresServer.USER);
    env.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    env.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    env.put("PINGVAS_SIGNING_KEY_SECRET", KEY_SECRET);
    env.put("PINGVAS_DEV_SEED_USER", "true");
    env.put("PINGVAS_DEV_SEED_KEY", ADMIN_KEY);
    env.put("PINGVAS_SHUTDOWN_GRACE", "1s");
    // cheaper hashing keeps the suite fast; the parameters are read from each stored hash anyway
    env.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    env.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    env.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    http = new Http(baseUrl());
  }

  /** Another replica of this service (not started): the same database and settings, its own port. */
  UserHarness replica() {
    UserHarness other = new UserHarness(dbUrl, 0);
    env.forEach((k, v) -> {
      if (!k.equals("PINGVAS_HTTP_PORT")) {
        other.env.put(k, v);
      }
    });
    return other;
  }

  UserHarness with(String variable, String value) {
    env.put(variable, value);
    return this;
  }

  UserHarness start() {
    runtime = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", env), 1);
    UserService.start(runtime).toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
    return this;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** Signs up a fresh account; returns the sign-up response ({user, tokens}). */
  JsonObject signUp() {
    String email = "user-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    Http.Response r = http.post("/v1/users", null, new JsonObject().put("email", email)
        .put("password", "correct horse battery").put("name", "Test"));
    if (r.status() != 201) {
      throw new AssertionError("sign-up answered " + r.status() + ": " + r.body());
    }
    return r.json().put("email", email);
  }

  static String accessToken(JsonObject signUp) {
    return signUp.getJsonObject("tokens").getString("access_token");
  }

  /** Runs one SQL query (as the superuser) and returns the first column of the first row. */
  String query(String sql) {
    try (var c = connection(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs SQL statements (as the superuser) that return nothing, e.g. a trigger a test installs. */
  void execute(String sql) {
    try (var c = connection(); var s = c.createStatement()) {
      s.execute(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JDBC connection to this service's database, as the superuser. */
  private java.sql.Connection connection() throws java.sql.SQLException {
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    return java.sql.DriverManager.getConnection(SharedInfra.get().postgres().jdbcUrl(db), "postgres", "");
  }

  @Override
  public void close() {
    if (runtime != null) {
      runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
  }
}
