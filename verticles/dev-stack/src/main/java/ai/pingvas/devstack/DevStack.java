package ai.pingvas.devstack;

import ai.pingvas.embedded.LocalInfra;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.S3Server;
import ai.pingvas.gallery.GalleryService;
import ai.pingvas.generation.GenerationService;
import ai.pingvas.models.ModelService;
import ai.pingvas.payments.PaymentService;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceMain;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserService;
import ai.pingvas.users.UserSettings;
import ai.pingvas.worker.WorkerAgent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Pingvas Studio on one machine: embedded Postgres, Kafka and S3 (each replaceable by an external
 * one through the usual PINGVAS_PG_URL / PINGVAS_KAFKA_BOOTSTRAP / PINGVAS_STORAGE_ENDPOINT), every
 * service in its own Vert.x instance as in production, built-in procedural workers, and a gateway
 * that serves the whole public API on one port. Data lives under {@code .pingvas/data} and
 * survives restarts; so does the dev API key.
 */
public final class DevStack implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DevStack.class);
  private static final String TOPIC = "generation.events";

  /** How to run the stack. */
  public record Options(Path dataDir, int port, int workers, boolean durable, Map<String, String> env) {
    /** From the environment: PINGVAS_DEV_DATA, PINGVAS_DEV_PORT, PINGVAS_DEV_WORKERS. */
    public static Options fromEnvironment() {
      Map<String, String> env = System.getenv();
      return new Options(Path.of(env.getOrDefault("PINGVAS_DEV_DATA", ".pingvas/data")).toAbsolutePath(),
          Integer.parseInt(env.getOrDefault("PINGVAS_DEV_PORT", "8080")),
          Integer.parseInt(env.getOrDefault("PINGVAS_DEV_WORKERS", "2")), true, env);
    }
  }

  private final Options options;
  private final List<ServiceRuntime> runtimes = new ArrayList<>();
  private final Map<String, String> serviceUrls = new LinkedHashMap<>();
  private LocalInfra infra;
  private Vertx gatewayVertx;
  private Gateway gateway;
  private String apiKey;
  private int port;

  private DevStack(Options options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    DevStack stack = start(Options.fromEnvironment());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("\nStopping Pingvas Studio...");
      stack.close();
      stopped.countDown();
    }, "dev-stack-stop"));
    long readyMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    System.out.println(stack.banner(readyMs));
    stopped.await();
  }

  /** Starts everything and returns once the gateway serves requests. */
  public static DevStack start(Options options) {
    DevStack stack = new DevStack(options);
    try {
      stack.boot();
      return stack;
    } catch (RuntimeException e) {
      stack.close();
      throw e;
    }
  }

  private void boot() {
    Map<String, String> env = options.env();
    boolean externalPg = env.containsKey("PINGVAS_PG_URL");
    boolean externalKafka = env.containsKey("PINGVAS_KAFKA_BOOTSTRAP");
    boolean externalS3 = env.containsKey("PINGVAS_STORAGE_ENDPOINT");
    infra = LocalInfra.start(new LocalInfra.Options(options.dataDir(), Ports.freeOr(15432), Ports.freeOr(19092),
        Ports.freeOr(19000), options.durable(), !externalPg, !externalKafka, !externalS3,
        List.of("pingvas-images", "pingvas-models")));
    port = Ports.freeOr(options.port());
    String publicUrl = "http://localhost:" + port;
    apiKey = persistentSecret("dev-api-key", "pv_dev_");
    String internalToken = persistentSecret("internal-token", "");
    String workerToken = persistentSecret("worker-token", "");
    String signingKeySecret = persistentSecret("signing-key-secret", "");

    Map<String, String> common = new HashMap<>();
    common.put("PINGVAS_ENVIRONMENT", "local");
    common.put("PINGVAS_HTTP_PUBLIC_URL", publicUrl);
    common.put("PINGVAS_AUTH_INTERNAL_TOKEN", internalToken);
    common.put("PINGVAS_SHUTDOWN_GRACE", "5s");
    common.put("PINGVAS_EVENTS_TOPIC", TOPIC);
    if (!externalPg) {
      common.put("PINGVAS_PG_URL", infra.postgres().url());
      common.put("PINGVAS_PG_USER", PostgresServer.USER);
      common.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    }
    if (!externalKafka) {
      common.put("PINGVAS_KAFKA_BOOTSTRAP", infra.kafka().bootstrap());
      common.put("PINGVAS_KAFKA_PARTITIONS", "4");
    }
    if (!externalS3) {
      common.put("PINGVAS_STORAGE_ENDPOINT", infra.s3().endpoint());
      common.put("PINGVAS_STORAGE_ACCESS_KEY", S3Server.ACCESS_KEY);
      common.put("PINGVAS_STORAGE_SECRET_KEY", S3Server.SECRET_KEY);
    }

    // Every service gets its own port; the gateway routes the public paths to them.
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (ServiceSpec spec : SERVICES) {
      ports.put(spec.descriptor().name(), Ports.free());
    }
    String generationUrl = "http://127.0.0.1:" + ports.get(GenerationService.NAME);
    String usersUrl = "http://127.0.0.1:" + ports.get(UserService.NAME);
    common.put("PINGVAS_AUTH_JWKS_URL", usersUrl + "/.well-known/jwks.json");
    common.put("PINGVAS_AUTH_INTROSPECT_URL", usersUrl + "/internal/v1/auth/introspect");
    common.put("PINGVAS_AUTH_TIERS_URL", usersUrl + "/internal/v1/tiers");
    common.put("PINGVAS_USERS_URL", usersUrl);
    common.put("PINGVAS_BILLING_URL", "http://127.0.0.1:" + ports.get(PaymentService.NAME));
    common.put("PINGVAS_GALLERY_URL", "http://127.0.0.1:" + ports.get(GalleryService.NAME));
    common.put("PINGVAS_MODELS_URL", "http://127.0.0.1:" + ports.get(ModelService.NAME));
    common.put("PINGVAS_WORKERS_TOKEN", workerToken);
    // The dev user is created through user-service, with the key kept in the data folder.
    common.put("PINGVAS_DEV_SEED_KEY", apiKey);
    common.put("PINGVAS_SIGNING_KEY_SECRET", signingKeySecret);

    List<Future<Void>> started = new ArrayList<>();
    for (ServiceSpec spec : SERVICES) {
      Map<String, String> serviceEnv = new HashMap<>(common);
      serviceEnv.putAll(spec.env());
      callerWins(serviceEnv);
      serviceEnv.put("PINGVAS_HTTP_PORT", Integer.toString(ports.get(spec.descriptor().name())));
      started.add(service(spec.descriptor(), serviceEnv, spec.starter()));
    }
    await(Future.all(started), "services");

    for (int i = 1; i <= options.workers(); i++) {
      Map<String, String> worker = new HashMap<>(common);
      int workerPort = Ports.free();
      if (i == 1) {
        serviceUrls.put(WorkerAgent.NAME, "http://127.0.0.1:" + workerPort);
      }
      worker.put("PINGVAS_HTTP_PORT", Integer.toString(workerPort));
      worker.put("PINGVAS_WORKER_ID", "dev-worker-" + i);
      worker.put("PINGVAS_WORKER_ROUTER_URL", generationUrl.replace("http:", "ws:") + "/v1/workers/connect");
      worker.put("PINGVAS_WORKER_TOKEN", workerToken);
      worker.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
      callerWins(worker);
      ServiceRuntime runtime = ServiceRuntime.create(WorkerAgent.NAME, ConfigLoader.load("/worker-defaults.yaml",
          worker), 1);
      runtimes.add(runtime);
      await(WorkerAgent.start(runtime, null).mapEmpty(), "worker " + i);
    }

    gatewayVertx = Vertx.vertx();
    gateway = new Gateway(gatewayVertx);
    for (ServiceSpec spec : SERVICES) {
      int servicePort = ports.get(spec.descriptor().name());
      spec.routes().forEach(prefix -> gateway.route(prefix, servicePort));
      serviceUrls.put(spec.descriptor().name(), "http://127.0.0.1:" + servicePort);
    }
    await(gateway.listen(port).mapEmpty(), "gateway");
  }

  /** A service of the stack: how to start it, its own settings, and the public paths it serves. */
  private record ServiceSpec(ServiceMain.Descriptor descriptor, Function<ServiceRuntime, Future<?>> starter,
      Map<String, String> env, List<String> routes) {
  }

  /** The services of the stack, in no particular order (they start concurrently). */
  private static final List<ServiceSpec> SERVICES = List.of(
      new ServiceSpec(GenerationService.DESCRIPTOR, GenerationService::start,
          Map.of("PINGVAS_ROUTER_ID", "dev-router"),
          List.of("/v1/generations", "/v1/stream", "/v1/workers", "/v1/admin", "/openapi.yaml", "/", "/studio")),
      new ServiceSpec(GalleryService.DESCRIPTOR, GalleryService::start, Map.of(), List.of("/v1/images")),
      // Every request reaches user-service from the gateway's address: the per-IP brake is per stack here.
      new ServiceSpec(UserService.DESCRIPTOR, UserService::start,
          Map.of("PINGVAS_DEV_SEED_USER", "true", "PINGVAS_RATELIMIT_AUTH_PER_IP", "600"),
          List.of("/v1/users", "/v1/auth", "/v1/me", "/v1/api-keys", "/v1/tiers", "/.well-known")),
      // No Stripe key: free-allowance mode (monthly credits by tier).
      new ServiceSpec(PaymentService.DESCRIPTOR, PaymentService::start, Map.of(), List.of("/v1/billing")),
      new ServiceSpec(ModelService.DESCRIPTOR, ModelService::start,
          Map.of("PINGVAS_DEV_SEED_MODELS", "true"),
          List.of("/v1/models")));

  /** The caller's PINGVAS_* variables win over the stack's choices. */
  private void callerWins(Map<String, String> target) {
    options.env().forEach((k, v) -> {
      if (k.startsWith("PINGVAS_")) {
        target.put(k, v);
      }
    });
  }

  private Future<Void> service(ServiceMain.Descriptor descriptor, Map<String, String> env,
      Function<ServiceRuntime, Future<?>> starter) {
    Config config = ConfigLoader.load(descriptor.defaultsResource(), env);
    ServiceRuntime runtime = ServiceRuntime.create(descriptor.name(), config, 2);
    synchronized (runtimes) {
      runtimes.add(runtime);
    }
    return starter.apply(runtime).mapEmpty();
  }

  private String persistentSecret(String name, String prefix) {
    Path file = options.dataDir().resolve(name);
    try {
      Files.createDirectories(options.dataDir());
      if (Files.exists(file)) {
        return Files.readString(file).trim();
      }
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      String secret = prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      Files.writeString(file, secret);
      return secret;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void await(Future<?> future, String what) {
    try {
      future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(what + " failed to start: " + e.getMessage(), e);
    }
  }

  public String gatewayUrl() {
    return "http://localhost:" + port;
  }

  /** Each service's own base URL, and the first worker's (their /metrics and /health live there). */
  public Map<String, String> serviceUrls() {
    return Map.copyOf(serviceUrls);
  }

  public String devApiKey() {
    return apiKey;
  }

  public LocalInfra infra() {
    return infra;
  }

  public String devUserId() {
    return UserSettings.DEV_USER_ID;
  }

  String banner(long readyMs) {
    String url = gatewayUrl();
    String auth = "-H 'Authorization: Bearer " + apiKey + "'";
    StringBuilder out = new StringBuilder();
    out.append("\n  Pingvas Studio is ready (").append(String.format("%.1f", readyMs / 1000.0)).append(" s)\n\n");
    out.append("  API       ").append(url).append("   (contract: ").append(url).append("/openapi.yaml)\n");
    out.append("  Studio    ").append(url).append("/studio/   (operator view: /studio/operator.html)\n");
    out.append("  API key   ").append(apiKey).append("   (dev user, studio tier, admin)\n");
    out.append("  Workers   ").append(options.workers()).append(" procedural\n");
    out.append("  Data      ").append(options.dataDir()).append('\n');
    if (infra.postgres() != null) {
      out.append("  Postgres  ").append(infra.postgres().url()).append(" (user pingvas / pingvas)\n");
    }
    if (infra.kafka() != null) {
      out.append("  Kafka     ").append(infra.kafka().bootstrap()).append('\n');
    }
    if (infra.s3() != null) {
      out.append("  S3        ").append(infra.s3().endpoint()).append(" (key ").append(S3Server.ACCESS_KEY)
          .append(" / ").append(S3Server.SECRET_KEY).append("; buckets pingvas-images, pingvas-models)\n");
    }
    out.append("\n  Submit a generation:\n");
    out.append("    curl -s ").append(url).append("/v1/generations ").append(auth)
        .append(" -H 'Content-Type: application/json' -d '{\"model\":\"sd-1.5\",\"prompt\":\"a lighthouse at dusk, oil painting\"}'\n");
    out.append("  Follow it:   curl -s ").append(url).append("/v1/generations/<id> ").append(auth).append('\n');
    out.append("  Credits:     curl -s ").append(url).append("/v1/billing/balance ").append(auth)
        .append("   (free-allowance mode: monthly credits by tier)\n");
    out.append("  Sign up:     curl -s ").append(url).append("/v1/users -H 'Content-Type: application/json' ")
        .append("-d '{\"email\":\"you@example.com\",\"password\":\"a long passphrase\"}'\n");
    out.append("  Download:    curl -sL -o image.png '<images[0].url>' ").append(auth).append('\n');
    out.append("\n  Ctrl-C stops the stack; data is kept.\n");
    return out.toString();
  }

  @Override
  public void close() {
    List<ServiceRuntime> all;
    synchronized (runtimes) {
      all = new ArrayList<>(runtimes);
    }
    java.util.Collections.reverse(all);
    if (gateway != null) {
      gateway.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
      gatewayVertx.close();
    }
    for (ServiceRuntime runtime : all) {
      runtime.close().toCompletionStage().toCompletableFuture().orTimeout(15, TimeUnit.SECONDS)
          .exceptionally(e -> {
            LOG.warn("{} did not stop cleanly: {}", runtime.service(), e.toString());
            return null;
          }).join();
    }
    if (infra != null) {
      infra.close();
    }
  }
}
