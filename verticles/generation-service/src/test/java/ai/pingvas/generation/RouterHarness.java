package ai.pingvas.generation;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserService;
import ai.pingvas.worker.RouterLinkVerticle;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.Future;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Starts a real generation-service (and real procedural workers) against the shared embedded
 * Postgres, Kafka and S3, configured through the same environment variables as production.
 */
final class RouterHarness implements AutoCloseable {
  static final String WORKER_TOKEN = "test-worker-token";

  final LocalInfra infra = SharedInfra.get();
  final String dbUrl;
  final String topic;
  final int port;
  final Map<String, String> env = new HashMap<>();
  static final String INTERNAL_TOKEN = "test-internal-token";
  final int usersPort = Ports.free();
  final Map<String, String> userEnv = new HashMap<>();
  ServiceRuntime users;
  ServiceRuntime router;
  final List<ServiceRuntime> workers = new ArrayList<>();

  RouterHarness(String name) {
    this.dbUrl = SharedInfra.newDatabase(name);
    this.topic = "generation.events." + name + "." + UUID.randomUUID().toString().substring(0, 8);
    this.port = Ports.free();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_HTTP_PUBLIC_URL", "http://127.0.0.1:" + port);
    env.put("PINGVAS_PG_URL", dbUrl);
    env.put("PINGVAS_PG_USER", PostgresServer.USER);
    env.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    env.put("PINGVAS_KAFKA_BOOTSTRAP", infra.kafka().bootstrap());
    env.put("PINGVAS_KAFKA_PARTITIONS", "4");
    env.put("PINGVAS_ROUTER_EVENTS_TOPIC", topic);
    env.put("PINGVAS_WORKERS_TOKEN", WORKER_TOKEN);
    env.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
    env.put("PINGVAS_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
    env.put("PINGVAS_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    env.put("PINGVAS_STORAGE_BUCKET", SharedInfra.BUCKET);
    env.put("PINGVAS_GALLERY_VERIFY", "false");
    env.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    // Accounts come from a real user-service; billing is exercised end to end in the dev stack's tests.
    String usersUrl = "http://127.0.0.1:" + usersPort;
    env.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    env.put("PINGVAS_AUTH_JWKS_URL", usersUrl + "/.well-known/jwks.json");
    env.put("PINGVAS_AUTH_INTROSPECT_URL", usersUrl + "/internal/v1/auth/introspect");
    env.put("PINGVAS_AUTH_TIERS_URL", usersUrl + "/internal/v1/tiers");
    env.put("PINGVAS_BILLING_ENABLED", "false");
    userEnv.put("PINGVAS_HTTP_PORT", Integer.toString(usersPort));
    userEnv.put("PINGVAS_PG_URL", dbUrl);
    userEnv.put("PINGVAS_PG_USER", PostgresServer.USER);
    userEnv.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    userEnv.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    userEnv.put("PINGVAS_SIGNING_KEY_SECRET", "test-signing-key-secret");
    userEnv.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    userEnv.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    userEnv.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    userEnv.put("PINGVAS_SHUTDOWN_GRACE", "1s");
  }

  RouterHarness with(String variable, String value) {
    env.put(variable, value);
    return this;
  }

  Config routerConfig() {
    return ConfigLoader.load("/generation-defaults.yaml", env);
  }

  /** Starts user-service (once), then the router. */
  Future<Void> startRouter() {
    if (users == null) {
      users = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", userEnv), 1);
      UserService.start(users).toCompletionStage().toCompletableFuture().join();
    }
    router = ServiceRuntime.create(GenerationService.NAME, routerConfig(), 2);
    return GenerationService.start(router);
  }

  /** Starts a procedural worker connected to this router. */
  Future<RouterLinkVerticle> startWorker(String workerId, Map<String, String> overrides) {
    Map<String, String> workerEnv = new HashMap<>();
    workerEnv.put("PINGVAS_HTTP_PORT", Integer.toString(Ports.free()));
    workerEnv.put("PINGVAS_WORKER_ID", workerId);
    workerEnv.put("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + port + "/v1/workers/connect");
    workerEnv.put("PINGVAS_WORKER_TOKEN", WORKER_TOKEN);
    workerEnv.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
    workerEnv.put("PINGVAS_ENGINE_STEP_TIME", "20ms");
    workerEnv.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    workerEnv.putAll(overrides);
    ServiceRuntime runtime = ServiceRuntime.create(WorkerAgent.NAME,
        ConfigLoader.load("/worker-defaults.yaml", workerEnv), 1);
    workers.add(runtime);
    return WorkerAgent.start(runtime, null);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  S3Client s3() {
    return S3Client.builder().endpointOverride(URI.create(infra.s3().endpoint())).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY,
            S3Server.SECRET_KEY)))
        .forcePathStyle(true).build();
  }

  /** Runs SQL against the router's database as the superuser (test inspection only). */
  long count(String sql) {
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(db), "postgres", "");
        var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (ServiceRuntime w : workers) {
      w.close().toCompletionStage().toCompletableFuture().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
    for (ServiceRuntime runtime : new ServiceRuntime[] {router, users}) {
      if (runtime != null) {
        runtime.close().toCompletionStage().toCompletableFuture()
            .orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null).join();
      }
    }
  }

  /** Signs a user up with user-service, gives them the tier, and returns a new API key of theirs. */
  String createUser(String tier) {
    ApiClient users = new ApiClient("http://127.0.0.1:" + usersPort);
    String email = "user-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    ApiClient.Response signUp = users.post("/v1/users", null, new io.vertx.core.json.JsonObject()
        .put("email", email).put("password", "correct horse battery").encode());
    if (signUp.status() != 201) {
      throw new IllegalStateException("sign-up answered " + signUp.status() + ": " + signUp.body());
    }
    String userId = signUp.json().getJsonObject("user").getString("id");
    String token = signUp.json().getJsonObject("tokens").getString("access_token");
    ApiClient.Response tiered = users.put("/internal/v1/users/" + userId + "/tier", "{\"tier\":\"" + tier + "\"}",
        "X-Internal-Token", INTERNAL_TOKEN);
    if (tiered.status() != 200) {
      throw new IllegalStateException("tier change answered " + tiered.status() + ": " + tiered.body());
    }
    return users.post("/v1/api-keys", token, "{\"name\":\"test\"}").json().getString("key");
  }

  static Duration await() {
    return Duration.ofSeconds(30);
  }
}
