package ai.pingvas.gallery;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.generation.GenerationService;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.testing.Http;
import ai.pingvas.users.UserService;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real gallery-service beside a real router (authentication, upload verification, job events) and
 * a real procedural worker, on the shared embedded Postgres, Kafka and S3, configured through the
 * environment variables production uses.
 */
final class GalleryStack implements AutoCloseable {
  static final String WORKER_TOKEN = "gallery-test-worker-token";
  static final String INTERNAL_TOKEN = "gallery-test-internal-token";

  final LocalInfra infra = SharedInfra.get();
  final int routerPort = Ports.free();
  final int usersPort = Ports.free();
  final int galleryPort = Ports.free();
  final String routerDb;
  final Map<String, String> galleryEnv = new HashMap<>();
  final Map<String, String> routerEnv = new HashMap<>();
  final Map<String, String> usersEnv = new HashMap<>();
  private final List<ServiceRuntime> runtimes = new ArrayList<>();

  GalleryStack(String name) {
    String topic = "generation.events." + name + "." + UUID.randomUUID().toString().substring(0, 8);
    routerDb = SharedInfra.newDatabase(name + "_router");
    Map<String, String> common = new HashMap<>();
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
    common.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
    common.put("PINGVAS_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
    common.put("PINGVAS_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    common.put("PINGVAS_STORAGE_BUCKET", SharedInfra.BUCKET);

    routerEnv.putAll(common);
    routerEnv.put("PINGVAS_HTTP_PORT", Integer.toString(routerPort));
    routerEnv.put("PINGVAS_HTTP_PUBLIC_URL", "http://127.0.0.1:" + routerPort);
    routerEnv.put("PINGVAS_PG_URL", routerDb);
    routerEnv.put("PINGVAS_ROUTER_EVENTS_TOPIC", topic);
    routerEnv.put("PINGVAS_WORKERS_TOKEN", WORKER_TOKEN);
    routerEnv.put("PINGVAS_GALLERY_URL", "http://127.0.0.1:" + galleryPort);
    routerEnv.put("PINGVAS_GALLERY_QUOTA_CACHE_TTL", "0s");
    routerEnv.put("PINGVAS_MODELS_URL", "http://127.0.0.1:" + Ports.free());
    routerEnv.put("PINGVAS_BILLING_ENABLED", "false");

    usersEnv.putAll(common);
    usersEnv.put("PINGVAS_HTTP_PORT", Integer.toString(usersPort));
    usersEnv.put("PINGVAS_PG_URL", SharedInfra.newDatabase(name + "_users"));
    usersEnv.put("PINGVAS_SIGNING_KEY_SECRET", "gallery-test-signing-key-secret");
    usersEnv.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    usersEnv.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    usersEnv.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    for (String tier : new String[] {"FREE", "PRO", "STUDIO"}) {
      // the router's tier limits are tested in generation-service; here they must not get in the way
      usersEnv.put("PINGVAS_TIERS_" + tier + "_REQUESTS_PER_MINUTE", "1000000");
      usersEnv.put("PINGVAS_TIERS_" + tier + "_MAX_RESOLUTION", "2048");
    }

    galleryEnv.putAll(common);
    galleryEnv.put("PINGVAS_HTTP_PORT", Integer.toString(galleryPort));
    galleryEnv.put("PINGVAS_PG_URL", SharedInfra.newDatabase(name + "_gallery"));
    galleryEnv.put("PINGVAS_EVENTS_TOPIC", topic);
    galleryEnv.put("PINGVAS_EVENTS_GROUP", "gallery." + topic);
  }

  GalleryStack start() {
    ServiceRuntime users = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", usersEnv),
        1);
    runtimes.add(users);
    join(UserService.start(users));
    ServiceRuntime gallery = ServiceRuntime.create(GalleryService.NAME,
        ConfigLoader.load("/gallery-defaults.yaml", galleryEnv), 1);
    runtimes.add(gallery);
    join(GalleryService.start(gallery));
    ServiceRuntime router = ServiceRuntime.create(GenerationService.NAME,
        ConfigLoader.load("/generation-defaults.yaml", routerEnv), 2);
    runtimes.add(router);
    join(GenerationService.start(router));
    Map<String, String> worker = new HashMap<>();
    worker.put("PINGVAS_HTTP_PORT", Integer.toString(Ports.free()));
    worker.put("PINGVAS_WORKER_ID", "gallery-worker");
    worker.put("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + routerPort + "/v1/workers/connect");
    worker.put("PINGVAS_WORKER_TOKEN", WORKER_TOKEN);
    worker.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
    worker.put("PINGVAS_ENGINE_STEP_TIME", "5ms");
    worker.put("PINGVAS_SHUTDOWN_GRACE", "2s");
    ServiceRuntime workerRuntime = ServiceRuntime.create(WorkerAgent.NAME,
        ConfigLoader.load("/worker-defaults.yaml", worker), 1);
    runtimes.add(workerRuntime);
    join(WorkerAgent.start(workerRuntime, null));
    return this;
  }

  String routerUrl() {
    return "http://127.0.0.1:" + routerPort;
  }

  String galleryUrl() {
    return "http://127.0.0.1:" + galleryPort;
  }

  /** A user's id and API key. */
  record User(String id, String key) {
  }

  /** A user signed up with user-service, given the tier (as billing would), with one API key. */
  String createUser(String tier) {
    return newUser(tier).key();
  }

  /** {@link #createUser}, with the user's id. */
  User newUser(String tier) {
    HttpClient http = Http.client();
    String users = "http://127.0.0.1:" + usersPort;
    JsonObject signUp = new JsonObject(send(http, HttpRequest.newBuilder(URI.create(users + "/v1/users"))
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", "g-" + UUID.randomUUID()
            + "@example.com").put("password", "correct horse battery").encode()))));
    String id = signUp.getJsonObject("user").getString("id");
    send(http, HttpRequest.newBuilder(URI.create(users + "/internal/v1/users/" + id + "/tier"))
        .header("X-Internal-Token", INTERNAL_TOKEN)
        .PUT(HttpRequest.BodyPublishers.ofString("{\"tier\":\"" + tier + "\"}")));
    return new User(id, new JsonObject(send(http, HttpRequest.newBuilder(URI.create(users + "/v1/api-keys"))
        .header("Authorization", "Bearer " + signUp.getJsonObject("tokens").getString("access_token"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"test\"}")))).getString("key"));
  }

  private static String send(HttpClient http, HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.header("Content-Type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new IllegalStateException(r.uri() + " answered " + r.statusCode() + ": " + r.body());
      }
      return r.body();
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs a statement against gallery-service's database as the superuser (test setup only). */
  void execGallery(String sql) {
    String url = galleryEnv.get("PINGVAS_PG_URL");
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(url.substring(url.lastIndexOf('/') + 1)),
        "postgres", ""); var s = c.createStatement()) {
      s.execute(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs a query against gallery-service's database as the superuser; the first column of its one row. */
  long countGallery(String sql) {
    String url = galleryEnv.get("PINGVAS_PG_URL");
    try (var c = java.sql.DriverManager.getConnection(infra.postgres().jdbcUrl(url.substring(url.lastIndexOf('/') + 1)),
        "postgres", ""); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  S3Client s3() {
    return S3Client.builder().endpointOverride(URI.create(infra.s3().endpoint())).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY,
            S3Server.SECRET_KEY)))
        .forcePathStyle(true).build();
  }

  static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    for (int i = runtimes.size() - 1; i >= 0; i--) {
      runtimes.get(i).close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
  }
}
