package ai.pingvas.bench;

import ai.pingvas.embedded.JavaProcess;
import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.generation.GenerationService;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
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
  static final String TOKEN = "bench-worker-token";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  final LocalInfra infra;
  final String database;
  final String topic;
  final Path logs;
  private final List<JavaProcess> processes = new ArrayList<>();
  private final List<String> routers = new ArrayList<>();

  BenchEnv(LocalInfra infra, String scenario, Path logs) {
    this.infra = infra;
    this.database = "bench_" + scenario.replace('-', '_') + "_" + System.currentTimeMillis() % 100_000;
    infra.postgres().createDatabase(database);
    this.topic = "generation.events." + database;
    this.logs = logs;
  }

  /** Starts a router replica with production-like JVM flags; returns its base URL once ready. */
  String router(String name, Map<String, String> overrides) {
    int port = Ports.free();
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_HTTP_PUBLIC_URL", "http://127.0.0.1:" + port);
    env.put("PINGVAS_HTTP_INSTANCES", "2");
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
    JavaProcess process = JavaProcess.start(name, GenerationService.class.getName(), env, logs,
        List.of("-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"));
    processes.add(process);
    String url = "http://127.0.0.1:" + port;
    process.awaitHttp(url + "/health/ready", Duration.ofSeconds(90));
    routers.add(url);
    return url;
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
        List.of("-Xmx768m", "-XX:+UseG1GC"));
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

  /** A user of a tier with one API key, written where the router looks keys up; returns the key. */
  String user(String tier) {
    String userId = UUID.randomUUID().toString();
    String key = "pv_bench_" + UUID.randomUUID().toString().replace("-", "");
    try (Connection c = connection()) {
      try (PreparedStatement s = c.prepareStatement("INSERT INTO generation.users (id, name, tier) VALUES (?::uuid, ?, ?)")) {
        s.setString(1, userId);
        s.setString(2, "bench");
        s.setString(3, tier);
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement(
          "INSERT INTO generation.api_keys (id, user_id, key_hash, prefix) VALUES (?::uuid, ?::uuid, ?, 'pv_bench')")) {
        s.setString(1, UUID.randomUUID().toString());
        s.setString(2, userId);
        s.setBytes(3, MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        s.executeUpdate();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return key;
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
