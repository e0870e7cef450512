package ai.pingvas.generation;

import ai.pingvas.embedded.JavaProcess;
import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Routers and workers as separate processes on the test's Postgres, Kafka and S3, so tests can
 * kill, freeze and terminate them for real. Processes log JSON lines the tests can read.
 */
final class Cluster implements AutoCloseable {
  static final String WORKER_TOKEN = "cluster-worker-token";

  final LocalInfra infra;
  final String dbUrl;
  final String topic;
  final Path logs;
  final Map<String, String> routerEnv = new HashMap<>();
  final List<JavaProcess> processes = new ArrayList<>();
  final TestUsers users;

  Cluster(String name) {
    this(name, SharedInfra.get(), SharedInfra.newDatabase(name));
  }

  Cluster(String name, LocalInfra infra, String dbUrl) {
    this(name, infra, dbUrl, TestUsers.generousLimits());
  }

  /** {@code userSettings}: user-service's settings (its tier table); empty = the configured tiers. */
  Cluster(String name, LocalInfra infra, String dbUrl, Map<String, String> userSettings) {
    this.infra = infra;
    this.dbUrl = dbUrl;
    this.topic = "generation.events." + name + "." + UUID.randomUUID().toString().substring(0, 8);
    try {
      this.logs = Files.createDirectories(Path.of("target", "cluster-logs", name + "-" + Instant.now().toEpochMilli()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    routerEnv.put("PINGVAS_PG_URL", dbUrl);
    routerEnv.put("PINGVAS_PG_USER", PostgresServer.USER);
    routerEnv.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    routerEnv.put("PINGVAS_KAFKA_BOOTSTRAP", infra.kafka().bootstrap());
    routerEnv.put("PINGVAS_KAFKA_PARTITIONS", "4");
    routerEnv.put("PINGVAS_ROUTER_EVENTS_TOPIC", topic);
    routerEnv.put("PINGVAS_WORKERS_TOKEN", WORKER_TOKEN);
    routerEnv.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
    routerEnv.put("PINGVAS_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
    routerEnv.put("PINGVAS_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    routerEnv.put("PINGVAS_STORAGE_BUCKET", SharedInfra.BUCKET);
    routerEnv.put("PINGVAS_GALLERY_VERIFY", "false");
    routerEnv.put("PINGVAS_SHUTDOWN_GRACE", "5s");
    routerEnv.put("LOG_FORMAT", "json");
    users = new TestUsers(SharedInfra.newDatabase(name + "_users"), userSettings);
    routerEnv.putAll(users.routerEnv());
  }

  /** A router replica; returns its base URL once it is ready. */
  Router router(String name, Map<String, String> overrides) {
    int port = Ports.free();
    Map<String, String> env = new HashMap<>(routerEnv);
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_HTTP_PUBLIC_URL", "http://127.0.0.1:" + port);
    env.put("PINGVAS_ROUTER_ID", name);
    env.putAll(overrides);
    JavaProcess process = JavaProcess.start(name, GenerationService.class.getName(), env, logs);
    processes.add(process);
    String url = "http://127.0.0.1:" + port;
    process.awaitHttp(url + "/health/ready", Duration.ofSeconds(60));
    return new Router(process, url);
  }

  /** A worker dialing the given routers (tried in turn). */
  JavaProcess worker(String name, List<Router> routers, Map<String, String> overrides) {
    int port = Ports.free();
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_WORKER_ID", name);
    env.put("PINGVAS_WORKER_ROUTER_URL", String.join(",", routers.stream()
        .map(r -> r.url().replace("http:", "ws:") + "/v1/workers/connect").toList()));
    env.put("PINGVAS_WORKER_TOKEN", WORKER_TOKEN);
    env.put("PINGVAS_ENGINE_STEP_TIME", "20ms");
    env.put("PINGVAS_WORKER_RECONNECT_MIN", "100ms");
    env.put("PINGVAS_WORKER_RECONNECT_MAX", "1s");
    env.put("PINGVAS_SHUTDOWN_GRACE", "30s");
    env.put("LOG_FORMAT", "json");
    env.putAll(overrides);
    JavaProcess process = JavaProcess.start(name, WorkerAgent.class.getName(), env, logs);
    processes.add(process);
    process.awaitHttp("http://127.0.0.1:" + port + "/health/ready", Duration.ofSeconds(60));
    return process;
  }

  String createUser(String tier) {
    return users.create(tier);
  }

  /** One router replica process and its base URL. */
  record Router(JavaProcess process, String url) {
  }

  /** The worker's attempt executions from its log: (job, attempt, start, end). */
  static List<Execution> executions(JavaProcess worker) throws IOException {
    Map<String, Instant> started = new HashMap<>();
    List<Execution> out = new ArrayList<>();
    for (String line : Files.readAllLines(worker.log())) {
      if (!line.startsWith("{")) {
        continue;
      }
      JsonObject entry = new JsonObject(line);
      String message = entry.getString("formattedMessage", "");
      Map<String, String> kv = new HashMap<>();
      entry.getJsonArray("kvpList", new io.vertx.core.json.JsonArray())
          .forEach(item -> ((JsonObject) item).forEach(e -> kv.put(e.getKey(), String.valueOf(e.getValue()))));
      String key = kv.get("job_id") + "#" + kv.get("attempt");
      Instant at = Instant.ofEpochMilli(entry.getLong("timestamp"));
      if (message.equals("running job")) {
        started.put(key, at);
      } else if (message.equals("attempt ended")) {
        Instant start = started.remove(key);
        if (start != null) {
          out.add(new Execution(kv.get("job_id"), Integer.parseInt(kv.get("attempt")), worker.name(), start, at));
        }
      }
    }
    for (Map.Entry<String, Instant> open : started.entrySet()) {
      String[] parts = open.getKey().split("#");
      out.add(new Execution(parts[0], Integer.parseInt(parts[1]), worker.name(), open.getValue(),
          worker.alive() ? Instant.MAX : Instant.now()));
    }
    return out;
  }

  /** One attempt as a worker ran it. */
  record Execution(String jobId, int attempt, String worker, Instant start, Instant end) {
    boolean overlaps(Execution other) {
      return start.isBefore(other.end) && other.start.isBefore(end);
    }
  }

  @Override
  public void close() {
    for (JavaProcess process : processes) {
      process.close();
    }
    users.close();
  }
}
