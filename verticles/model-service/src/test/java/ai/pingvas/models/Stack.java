package ai.pingvas.models;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.generation.GenerationService;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real model-service beside a real router (which authenticates callers, runs the model check and
 * publishes worker.events) and real procedural workers, on the shared embedded Postgres and Kafka,
 * configured through the same environment variables as production.
 */
final class Stack implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final String WORKER_TOKEN = "models-test-worker-token";
  static final String INTERNAL_TOKEN = "models-test-internal-token";

  final LocalInfra infra = SharedInfra.get();
  final String routerDb;
  final int routerPort = Ports.free();
  final int modelsPort = Ports.free();
  final Map<String, String> common = new HashMap<>();
  final Map<String, String> modelEnv = new HashMap<>();
  final Map<String, String> routerEnv = new HashMap<>();
  ServiceRuntime router;
  ServiceRuntime models;
  final List<ServiceRuntime> workers = new ArrayList<>();

  Stack(String name) {
    String suffix = name + "." + UUID.randomUUID().toString().substring(0, 8);
    routerDb = SharedInfra.newDatabase(name + "_router");
    common.put("PINGVAS_PG_USER", PostgresServer.USER);
    common.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    common.put("PINGVAS_KAFKA_BOOTSTRAP", infra.kafka().bootstrap());
    common.put("PINGVAS_KAFKA_PARTITIONS", "2");
    common.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    common.put("PINGVAS_AUTH_INTROSPECT_URL", "http://127.0.0.1:" + routerPort + "/internal/v1/auth/introspect");
    common.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    String workerTopic = "worker.events." + suffix;

    routerEnv.putAll(common);
    routerEnv.put("PINGVAS_HTTP_PORT", Integer.toString(routerPort));
    routerEnv.put("PINGVAS_PG_URL", routerDb);
    routerEnv.put("PINGVAS_ROUTER_EVENTS_TOPIC", "generation.events." + suffix);
    routerEnv.put("PINGVAS_WORKERS_TOKEN", WORKER_TOKEN);
    routerEnv.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
    routerEnv.put("PINGVAS_STORAGE_ACCESS_KEY", ai.pingvas.embedded.S3Server.ACCESS_KEY);
    routerEnv.put("PINGVAS_STORAGE_SECRET_KEY", ai.pingvas.embedded.S3Server.SECRET_KEY);
    routerEnv.put("PINGVAS_GALLERY_VERIFY", "false");
    routerEnv.put("PINGVAS_MODELS_URL", "http://127.0.0.1:" + modelsPort);
    routerEnv.put("PINGVAS_MODELS_WORKER_TOPIC", workerTopic);
    routerEnv.put("PINGVAS_MODELS_PUBLISH_INTERVAL", "1s");

    modelEnv.putAll(common);
    modelEnv.put("PINGVAS_HTTP_PORT", Integer.toString(modelsPort));
    modelEnv.put("PINGVAS_PG_URL", SharedInfra.newDatabase(name + "_models"));
    modelEnv.put("PINGVAS_WORKERS_TOPIC", workerTopic);
    modelEnv.put("PINGVAS_WORKERS_GROUP", "model-service." + suffix);
    modelEnv.put("PINGVAS_WORKERS_HOLDING_TTL", "10s");
  }

  Stack startRouter() {
    router = ServiceRuntime.create(GenerationService.NAME, ConfigLoader.load("/generation-defaults.yaml", routerEnv), 2);
    join(GenerationService.start(router));
    return this;
  }

  Stack startModels() {
    models = ServiceRuntime.create(ModelService.NAME, ConfigLoader.load("/model-defaults.yaml", modelEnv), 1);
    join(ModelService.start(models));
    return this;
  }

  void stopModels() {
    join(models.close());
    models = null;
  }

  /** Starts a procedural worker connected to the router. */
  ServiceRuntime startWorker(String workerId) {
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(Ports.free()));
    env.put("PINGVAS_WORKER_ID", workerId);
    env.put("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + routerPort + "/v1/workers/connect");
    env.put("PINGVAS_WORKER_TOKEN", WORKER_TOKEN);
    env.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
    env.put("PINGVAS_ENGINE_STEP_TIME", "5ms");
    env.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    ServiceRuntime runtime = ServiceRuntime.create(WorkerAgent.NAME, ConfigLoader.load("/worker-defaults.yaml", env), 1);
    workers.add(runtime);
    join(WorkerAgent.start(runtime, null));
    return runtime;
  }

  /** A user of the router with one API key (test data written straight into its tables). */
  String createUser(String tier, boolean admin) {
    String userId = UUID.randomUUID().toString();
    String key = "pv_test_" + UUID.randomUUID().toString().replace("-", "");
    String db = routerDb.substring(routerDb.lastIndexOf('/') + 1);
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(db), "postgres", "")) {
      try (var s = c.prepareStatement("INSERT INTO generation.users (id, name, tier, roles) VALUES (?::uuid, ?, ?, ?)")) {
        s.setString(1, userId);
        s.setString(2, "user-" + userId.substring(0, 8));
        s.setString(3, tier);
        s.setArray(4, c.createArrayOf("text", admin ? new String[] {"admin"} : new String[0]));
        s.executeUpdate();
      }
      try (var s = c.prepareStatement("INSERT INTO generation.api_keys (id, user_id, key_hash, prefix) "
          + "VALUES (?::uuid, ?::uuid, ?, ?)")) {
        s.setString(1, UUID.randomUUID().toString());
        s.setString(2, userId);
        s.setBytes(3, MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        s.setString(4, key.substring(0, 10));
        s.executeUpdate();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return key;
  }

  record Response(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  Response models(String method, String path, String key, String body) {
    return send(modelsPort, method, path, key, body);
  }

  Response router(String method, String path, String key, String body) {
    return send(routerPort, method, path, key, body);
  }

  private static Response send(int port, String method, String path, String key, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    try {
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    List<ServiceRuntime> all = new ArrayList<>(workers);
    all.add(router);
    all.add(models);
    for (ServiceRuntime runtime : all) {
      if (runtime != null) {
        runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
            .exceptionally(e -> null).join();
      }
    }
  }
}
