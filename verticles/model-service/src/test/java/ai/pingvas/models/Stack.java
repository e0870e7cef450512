package ai.pingvas.models;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.generation.GenerationService;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserService;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
  final int usersPort = Ports.free();
  final Map<String, String> usersEnv = new HashMap<>();
  static final String ADMIN_KEY = "pv_models_admin_" + UUID.randomUUID().toString().replace("-", "");
  ServiceRuntime users;
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
    // Accounts come from a real user-service, as in production.
    String usersUrl = "http://127.0.0.1:" + usersPort;
    common.put("PINGVAS_AUTH_INTROSPECT_URL", usersUrl + "/internal/v1/auth/introspect");
    common.put("PINGVAS_AUTH_JWKS_URL", usersUrl + "/.well-known/jwks.json");
    common.put("PINGVAS_AUTH_TIERS_URL", usersUrl + "/internal/v1/tiers");
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
    routerEnv.put("PINGVAS_BILLING_ENABLED", "false");

    usersEnv.putAll(common);
    usersEnv.put("PINGVAS_HTTP_PORT", Integer.toString(usersPort));
    usersEnv.put("PINGVAS_PG_URL", SharedInfra.newDatabase(name + "_users"));
    usersEnv.put("PINGVAS_SIGNING_KEY_SECRET", "models-test-signing-key-secret");
    usersEnv.put("PINGVAS_DEV_SEED_USER", "true");
    usersEnv.put("PINGVAS_DEV_SEED_KEY", ADMIN_KEY);
    usersEnv.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    usersEnv.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    usersEnv.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    for (String tier : new String[] {"FREE", "PRO", "STUDIO"}) {
      // the router's tier limits are tested in generation-service; here they must not get in the way
      usersEnv.put("PINGVAS_TIERS_" + tier + "_REQUESTS_PER_MINUTE", "1000000");
      usersEnv.put("PINGVAS_TIERS_" + tier + "_MAX_RESOLUTION", "2048");
    }

    modelEnv.putAll(common);
    modelEnv.put("PINGVAS_HTTP_PORT", Integer.toString(modelsPort));
    modelEnv.put("PINGVAS_PG_URL", SharedInfra.newDatabase(name + "_models"));
    modelEnv.put("PINGVAS_WORKERS_TOPIC", workerTopic);
    modelEnv.put("PINGVAS_WORKERS_GROUP", "model-service." + suffix);
    modelEnv.put("PINGVAS_WORKERS_HOLDING_TTL", "10s");
    // registrations look at the weights in the embedded S3, as in production
    modelEnv.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
    modelEnv.put("PINGVAS_STORAGE_ACCESS_KEY", ai.pingvas.embedded.S3Server.ACCESS_KEY);
    modelEnv.put("PINGVAS_STORAGE_SECRET_KEY", ai.pingvas.embedded.S3Server.SECRET_KEY);
  }

  /** Starts user-service once, before whatever needs accounts. */
  private void ensureUsers() {
    if (users == null) {
      users = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", usersEnv), 1);
      join(UserService.start(users));
    }
  }

  Stack startRouter() {
    ensureUsers();
    router = ServiceRuntime.create(GenerationService.NAME, ConfigLoader.load("/generation-defaults.yaml", routerEnv), 2);
    join(GenerationService.start(router));
    return this;
  }

  Stack startModels() {
    ensureUsers();
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
    return startWorker(workerId, Map.of());
  }

  /** Starts a worker connected to the router, with {@code extra} settings (engine, storage) on top. */
  ServiceRuntime startWorker(String workerId, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(Ports.free()));
    env.put("PINGVAS_WORKER_ID", workerId);
    env.put("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + routerPort + "/v1/workers/connect");
    env.put("PINGVAS_WORKER_TOKEN", WORKER_TOKEN);
    env.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
    env.put("PINGVAS_ENGINE_STEP_TIME", "5ms");
    env.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    env.putAll(extra);
    ServiceRuntime runtime = ServiceRuntime.create(WorkerAgent.NAME, ConfigLoader.load("/worker-defaults.yaml", env), 1);
    workers.add(runtime);
    join(WorkerAgent.start(runtime, null));
    return runtime;
  }

  /** A user signed up with user-service, given the tier (and the admin role), with one API key. */
  String createUser(String tier, boolean admin) {
    ensureUsers();
    Response signUp = send(usersPort, "POST", "/v1/users", null, new JsonObject().put("email", "m-" + UUID.randomUUID()
        + "@example.com").put("password", "correct horse battery").encode());
    String id = signUp.json().getJsonObject("user").getString("id");
    JsonObject change = new JsonObject().put("tier", tier);
    if (admin) {
      change.put("roles", new io.vertx.core.json.JsonArray().add("admin"));
    }
    Response patched = send(usersPort, "PATCH", "/v1/users/" + id, ADMIN_KEY, change.encode());
    if (patched.status() != 200) {
      throw new IllegalStateException("user update answered " + patched.status() + ": " + patched.body());
    }
    return send(usersPort, "POST", "/v1/api-keys", signUp.json().getJsonObject("tokens").getString("access_token"),
        "{\"name\":\"test\"}").json().getString("key");
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
    all.add(users);
    for (ServiceRuntime runtime : all) {
      if (runtime != null) {
        runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
            .exceptionally(e -> null).join();
      }
    }
  }

  /** A registration body for the model (see {@link ModelRegistryIT#model}) after its weights were uploaded to its source. */
  String model(String name, String kind, String base) {
    try {
      ai.pingvas.worker.engine.invokeai.ModelObjects.put(infra.s3().endpoint(), "pingvas-models", name + ".safetensors",
          1024);
    } catch (Exception e) {
      throw new IllegalStateException("could not upload the weights of " + name, e);
    }
    return ModelRegistryIT.model(name, kind, base);
  }
}
