package ai.pingvas.bench;

import ai.pingvas.embedded.JavaProcess;
import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.generation.GenerationService;
import ai.pingvas.users.UserService;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The processes of one benchmark scenario: router replicas and simulated fleets on the durable
 * embedded Postgres and Kafka, each scenario on a fresh database and topic.
 */
final class BenchEnv implements AutoCloseable {
  /**
   * The router's JVM flags: the heap k8s/base/generation-service gives it (1 GiB limit,
   * MaxRAMPercentage=75). With 512 MB, JDK 17's single-generation ZGC ran twice as many cycles at
   * ~3,500 jobs/s (its workers 0.29 cores, 0.13 with 768 MB): its cost is cycles x live set, and
   * cycles follow allocation over headroom.
   */
  static final List<String> ROUTER_JVM = List.of("-Xms768m", "-Xmx768m", "-XX:+UseZGC");

  static final String TOKEN = "bench-worker-token";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  final LocalInfra infra;
  final String database;
  final String topic;
  final Path logs;
  private final List<JavaProcess> processes = new ArrayList<>();
  private final List<String> routers = new ArrayList<>();
  private final int usersPort = Ports.free();
  private String usersUrl;

  BenchEnv(LocalInfra infra, String scenario, Path logs) {
    this.infra = infra;
    this.database = "bench_" + scenario.replace('-', '_') + "_" + System.currentTimeMillis() % 100_000;
    infra.postgres().createDatabase(database);
    this.topic = "generation.events." + database;
    this.logs = logs;
  }

  /**
   * The user-service that issues the bench's credentials (started on first use). Load generators
   * send access tokens, which routers verify locally, so the figures measure the router, not an
   * introspection round trip per request; tier limits and billing are out of the way.
   */
  private String users() {
    if (usersUrl == null) {
      Map<String, String> env = new HashMap<>();
      env.put("PINGVAS_HTTP_PORT", Integer.toString(usersPort));
      env.put("PINGVAS_PG_URL", infra.postgres().url(database));
      env.put("PINGVAS_PG_USER", PostgresServer.USER);
      env.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
      env.put("PINGVAS_AUTH_INTERNAL_TOKEN", TOKEN);
      env.put("PINGVAS_SIGNING_KEY_SECRET", "bench-signing-key-secret");
      env.put("PINGVAS_TOKENS_ACCESS_TTL", "12h");
      env.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "1000000");
      env.put("PINGVAS_TIERS_STUDIO_REQUESTS_PER_MINUTE", "100000000");
      env.put("LOG_LEVEL", "WARN");
      JavaProcess process = JavaProcess.start("users", UserService.class.getName(), env, logs,
          List.of("-Xmx256m"));
      processes.add(process);
      usersUrl = "http://127.0.0.1:" + usersPort;
      process.awaitHttp(usersUrl + "/health/ready", Duration.ofSeconds(90));
    }
    return usersUrl;
  }

  /** Starts a router replica with production-like JVM flags; returns its base URL once ready. */
  String router(String name, Map<String, String> overrides) {
    int port = Ports.free();
    Map<String, String> env = new HashMap<>();
    String users = users();
    env.put("PINGVAS_AUTH_INTERNAL_TOKEN", TOKEN);
    env.put("PINGVAS_AUTH_JWKS_URL", users + "/.well-known/jwks.json");
    env.put("PINGVAS_AUTH_INTROSPECT_URL", users + "/internal/v1/auth/introspect");
    env.put("PINGVAS_AUTH_TIERS_URL", users + "/internal/v1/tiers");
    env.put("PINGVAS_BILLING_ENABLED", "false");
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_HTTP_PUBLIC_URL", "http://127.0.0.1:" + port);
    env.put("PINGVAS_PG_URL", infra.postgres().url(database));
    env.put("PINGVAS_PG_USER", PostgresServer.USER);
    env.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    env.put("PINGVAS_PG_POOL_SIZE", "24");
    env.put("PINGVAS_KAFKA_BOOTSTRAP", infra.kafka().bootstrap());
    env.put("PINGVAS_ROUTER_EVENTS_TOPIC", topic);
    env.put("PINGVAS_ROUTER_ID", name);
    env.put("PINGVAS_WORKERS_TOKEN", TOKEN);
    env.put("PINGVAS_GALLERY_VERIFY", "false");
    env.put("PINGVAS_STORAGE_ENDPOINT", "http://127.0.0.1:9");
    env.put("PINGVAS_STORAGE_ACCESS_KEY", "bench");
    env.put("PINGVAS_STORAGE_SECRET_KEY", "bench");
    env.put("PINGVAS_QUEUE_MAX_GLOBAL", "200000");
    env.put("PINGVAS_TIERS_STUDIO_MAX_QUEUED", "200000");
    env.put("PINGVAS_TIERS_STUDIO_MAX_RUNNING", "100000");
    env.put("PINGVAS_SHUTDOWN_GRACE", "5s");
    env.put("LOG_LEVEL", "WARN");
    env.putAll(overrides);
    List<String> jvm = new ArrayList<>(ROUTER_JVM);
    // e.g. -XX:StartFlightRecording=filename=/tmp/router.jfr,settings=profile to profile the router
    String extra = System.getenv("PINGVAS_BENCH_ROUTER_JVM_OPTS");
    if (extra != null && !extra.isBlank()) {
      if (extra.matches(".*-XX:\\+Use\\w+GC.*")) {
        jvm.removeIf(o -> o.startsWith("-XX:+Use") || o.startsWith("-XX:MaxGCPauseMillis"));
      }
      jvm.addAll(List.of(extra.trim().split("\\s+")));
    }
    JavaProcess process = JavaProcess.start(name, GenerationService.class.getName(), env, logs, jvm);
    processes.add(process);
    String url = "http://127.0.0.1:" + port;
    process.awaitHttp(url + "/health/ready", Duration.ofSeconds(90));
    routers.add(url);
    return url;
  }

  /**
   * CPU accounting over this scenario's processes: each router, fleet and user-service JVM,
   * Postgres (its whole process tree), Kafka, and this JVM (load generator and harness).
   */
  CpuUse cpuUse() {
    CpuUse cpu = new CpuUse();
    for (JavaProcess process : processes) {
      cpu.process(process.name(), process.pid());
    }
    return cpu.tree("postgres", infra.postgres().pid()).process("kafka", infra.kafka().pid())
        .process("load generator and harness", ProcessHandle.current().pid());
  }

  JavaProcess routerProcess(int index) {
    return processes.stream().filter(p -> p.name().startsWith("router")).toList().get(index);
  }

  /** Starts a simulated fleet; returns its stats URL once every worker is connected. */
  Fleet fleet(String name, List<String> routerUrls, int workers, Map<String, String> overrides) {
    int statsPort = Ports.free();
    Map<String, String> env = new HashMap<>();
    env.put("BENCH_ROUTERS", String.join(",", routerUrls.stream()
        .map(u -> u.replace("http:", "ws:") + "/v1/workers/connect").toList()));
    env.put("BENCH_TOKEN", TOKEN);
    env.put("BENCH_PREFIX", name);
    env.put("BENCH_WORKERS", Integer.toString(workers));
    env.put("BENCH_STATS_PORT", Integer.toString(statsPort));
    env.putAll(overrides);
    JavaProcess process = JavaProcess.start(name, FleetSim.class.getName(), env, logs,
        List.of("-Xmx768m", "-XX:+UseZGC"));
    processes.add(process);
    Fleet fleet = new Fleet(process, "http://127.0.0.1:" + statsPort);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (fleet.stats().getLong("connected", 0L) >= workers) {
          return fleet;
        }
      } catch (RuntimeException e) {
        // not listening yet
      }
      sleep(200);
    }
    throw new IllegalStateException("fleet " + name + " did not connect " + workers + " workers; see " + logs);
  }

  /** A simulated fleet process and its stats endpoint. */
  record Fleet(JavaProcess process, String statsUrl) {
    JsonObject stats() {
      return new JsonObject(get(statsUrl + "/stats"));
    }

    void reset() {
      get(statsUrl + "/reset");
    }
  }

  /** A user of a tier, signed up with user-service; returns an access token (valid 12 h). */
  String user(String tier) {
    String users = users();
    JsonObject signUp = new JsonObject(post(users + "/v1/users", null, new JsonObject()
        .put("email", "bench-" + UUID.randomUUID() + "@example.com").put("password", "bench password 1").encode(), "POST"));
    String id = signUp.getJsonObject("user").getString("id");
    post(users + "/internal/v1/users/" + id + "/tier", TOKEN, new JsonObject().put("tier", tier).encode(), "PUT");
    // refreshed after the tier change, so the token carries the tier
    return new JsonObject(post(users + "/v1/auth/token", null, new JsonObject().put("grant_type", "refresh_token")
        .put("refresh_token", signUp.getJsonObject("tokens").getString("refresh_token")).encode(), "POST"))
        .getString("access_token");
  }

  private static String post(String url, String internalToken, String body, String method) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    if (internalToken != null) {
      request.header("X-Internal-Token", internalToken);
    }
    try {
      HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  long count(String sql) {
    try (Connection c = connection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private Connection connection() throws java.sql.SQLException {
    return DriverManager.getConnection(infra.postgres().jdbcUrl(database), "postgres", "");
  }

  static String get(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (JavaProcess process : processes) {
      process.close();
    }
  }
}
