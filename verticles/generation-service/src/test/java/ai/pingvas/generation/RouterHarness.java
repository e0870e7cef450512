package ai.pingvas.generation;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
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

  final LocalInfra infra;
  final String name;
  final String dbUrl;
  final String topic;
  final int port;
  final Map<String, String> env = new HashMap<>();
  TestUsers users;
  int usersPort;
  private Map<String, String> userSettings = TestUsers.generousLimits();
  ServiceRuntime router;
  final List<ServiceRuntime> workers = new ArrayList<>();

  RouterHarness(String name) {
    this(name, SharedInfra.get(), SharedInfra.newDatabase(name));
  }

  /** A router on its own infrastructure (tests that stop Postgres or Kafka must not share them). */
  RouterHarness(String name, LocalInfra infra, String dbUrl) {
    this.infra = infra;
    this.name = name;
    this.dbUrl = dbUrl;
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
  }

  /** Keep user-service's tier limits as configured (tests of those limits). */
  RouterHarness withConfiguredTierLimits() {
    userSettings = Map.of();
    return this;
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
      // accounts come from a real user-service; billing is exercised end to end in the dev stack's tests
      users = new TestUsers(SharedInfra.newDatabase(name + "_users"), userSettings);
      usersPort = users.port;
      users.routerEnv().forEach(env::putIfAbsent);
    }
    // as deployed: the event-loop count comes from the router's configuration (vertx.event-loops)
    router = ServiceRuntime.create(GenerationService.NAME, routerConfig());
    return GenerationService.start(router);
  }

  /** Starts the router and one procedural worker (its settings overridden by {@code workerEnv}); waits for both. */
  RouterHarness startedWithWorker(String workerId, Map<String, String> workerEnv) {
    startRouter().toCompletionStage().toCompletableFuture().join();
    startWorker(workerId, workerEnv).toCompletionStage().toCompletableFuture().join();
    return this;
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
    return count(infra, dbUrl, sql);
  }

  /** The first column of the query's first row, run against a router database as the superuser. */
  static long count(LocalInfra infra, String dbUrl, String sql) {
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(db), "postgres", "");
        var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs a statement against the router's database as the superuser (test setup only). */
  void exec(String sql) {
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(db), "postgres", "");
        var s = c.createStatement()) {
      s.execute(sql);
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
    if (router != null) {
      router.close().toCompletionStage().toCompletableFuture()
          .orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
    if (users != null) {
      users.close();
    }
  }

  /** Signs a user up with this harness's user-service, with the tier; returns a new API key of theirs. */
  String createUser(String tier) {
    return users.create(tier);
  }

  String createAdmin() {
    return users.createAdmin("studio");
  }

  static Duration await() {
    return Duration.ofSeconds(30);
  }
}
