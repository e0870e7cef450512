package ai.pingvas.generation;

import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserService;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real user-service for the router's tests (schema users, in the test's database): accounts
 * are signed up through its API and given a tier through its internal route, as payment-service does.
 */
final class TestUsers implements AutoCloseable {
  static final String INTERNAL_TOKEN = "test-internal-token";

  final int port = Ports.free();
  private final String seedKey = "pv_seed_" + UUID.randomUUID().toString().replace("-", "");
  private final ServiceRuntime runtime;

  /** A user-service on its own database; {@code overrides} are its PINGVAS_* settings. */
  TestUsers(String dbUrl, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_PG_URL", dbUrl);
    env.put("PINGVAS_PG_USER", PostgresServer.USER);
    env.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    env.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    env.put("PINGVAS_SIGNING_KEY_SECRET", "test-signing-key-secret");
    env.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    env.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    env.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    env.put("PINGVAS_SHUTDOWN_GRACE", "1s");
    // the seeded admin (as in the dev stack) grants the admin role to the test admins it creates
    env.put("PINGVAS_DEV_SEED_USER", "true");
    env.put("PINGVAS_DEV_SEED_KEY", seedKey);
    env.putAll(overrides);
    runtime = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", env), 1);
    UserService.start(runtime).toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  /** Tier limits out of the way, for tests about something else (load, failures) than those limits. */
  static Map<String, String> generousLimits() {
    Map<String, String> env = new HashMap<>();
    for (String tier : new String[] {"FREE", "PRO", "STUDIO"}) {
      env.put("PINGVAS_TIERS_" + tier + "_REQUESTS_PER_MINUTE", "1000000");
      env.put("PINGVAS_TIERS_" + tier + "_MAX_RESOLUTION", "2048");
    }
    return env;
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  /** What a router needs to authenticate through this user-service (billing off: no payment-service here). */
  Map<String, String> routerEnv() {
    return Map.of("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN,
        "PINGVAS_AUTH_JWKS_URL", url() + "/.well-known/jwks.json",
        "PINGVAS_AUTH_INTROSPECT_URL", url() + "/internal/v1/auth/introspect",
        "PINGVAS_AUTH_TIERS_URL", url() + "/internal/v1/tiers",
        "PINGVAS_BILLING_ENABLED", "false");
  }

  /** Signs a user up, gives them the tier, and returns a new API key of theirs. */
  String create(String tier) {
    return signUp(tier, false);
  }

  /** Same, and an admin grants them the admin role. */
  String createAdmin(String tier) {
    return signUp(tier, true);
  }

  private String signUp(String tier, boolean admin) {
    ApiClient users = new ApiClient(url());
    String email = "user-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    ApiClient.Response signUp = users.post("/v1/users", null, new JsonObject()
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
    if (admin) {
      ApiClient.Response granted = users.patch("/v1/users/" + userId, seedKey, "{\"roles\":[\"admin\"]}");
      if (granted.status() != 200) {
        throw new IllegalStateException("role change answered " + granted.status() + ": " + granted.body());
      }
    }
    return users.post("/v1/api-keys", token, "{\"name\":\"test\"}").json().getString("key");
  }

  @Override
  public void close() {
    runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
        .exceptionally(e -> null).join();
  }
}
