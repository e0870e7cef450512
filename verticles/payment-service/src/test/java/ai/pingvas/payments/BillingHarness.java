package ai.pingvas.payments;

import ai.pingvas.testing.Http;
import ai.pingvas.embedded.Ports;
import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.embedded.SharedInfra;
import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.users.UserService;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real user-service and a real payment-service on the shared embedded Postgres and Kafka,
 * configured through environment variables as in production; Stripe is a local fake.
 */
final class BillingHarness implements AutoCloseable {
  static final String INTERNAL_TOKEN = "test-internal-token";
  static final String WEBHOOK_SECRET = "whsec_test_" + UUID.randomUUID().toString().replace("-", "");
  static final String STRIPE_KEY = "sk_test_fake";
  static final String ADMIN_KEY = "pv_test_admin_" + UUID.randomUUID().toString().replace("-", "");
  static final String PRO_PRICE = "price_pro_monthly";
  static final String STUDIO_PRICE = "price_studio_monthly";

  final String dbUrl;
  final String topic = "generation.events.billing." + UUID.randomUUID().toString().substring(0, 8);
  final int usersPort = Ports.free();
  final int billingPort = Ports.free();
  final Map<String, String> userEnv = new HashMap<>();
  final Map<String, String> billingEnv = new HashMap<>();
  final FakeStripe stripe = new FakeStripe();
  final Http users;
  final Http billing;
  private ServiceRuntime userRuntime;
  private ServiceRuntime billingRuntime;
  private KafkaProducer<String, String> producer;

  BillingHarness(String name, boolean withStripe) {
    dbUrl = SharedInfra.newDatabase(name);
    Map<String, String> common = new HashMap<>();
    common.put("PINGVAS_PG_URL", dbUrl);
    common.put("PINGVAS_PG_USER", PostgresServer.USER);
    common.put("PINGVAS_PG_PASSWORD", PostgresServer.PASSWORD);
    common.put("PINGVAS_KAFKA_BOOTSTRAP", SharedInfra.get().kafka().bootstrap());
    common.put("PINGVAS_KAFKA_PARTITIONS", "2");
    common.put("PINGVAS_AUTH_INTERNAL_TOKEN", INTERNAL_TOKEN);
    common.put("PINGVAS_SHUTDOWN_GRACE", "1s");
    String usersUrl = "http://127.0.0.1:" + usersPort;
    common.put("PINGVAS_AUTH_JWKS_URL", usersUrl + "/.well-known/jwks.json");
    common.put("PINGVAS_AUTH_INTROSPECT_URL", usersUrl + "/internal/v1/auth/introspect");
    userEnv.putAll(common);
    userEnv.put("PINGVAS_HTTP_PORT", Integer.toString(usersPort));
    userEnv.put("PINGVAS_SIGNING_KEY_SECRET", "test-signing-key-secret");
    userEnv.put("PINGVAS_DEV_SEED_USER", "true");
    userEnv.put("PINGVAS_DEV_SEED_KEY", ADMIN_KEY);
    userEnv.put("PINGVAS_PASSWORDS_ARGON2_MEMORY_KIB", "4096");
    userEnv.put("PINGVAS_PASSWORDS_ARGON2_ITERATIONS", "1");
    userEnv.put("PINGVAS_RATELIMIT_AUTH_PER_IP", "100000");
    billingEnv.putAll(common);
    billingEnv.put("PINGVAS_HTTP_PORT", Integer.toString(billingPort));
    billingEnv.put("PINGVAS_USERS_URL", usersUrl);
    billingEnv.put("PINGVAS_EVENTS_TOPIC", topic);
    billingEnv.put("PINGVAS_EVENTS_GROUP", "payment-service-" + name);
    if (withStripe) {
      billingEnv.put("PINGVAS_STRIPE_API_KEY", STRIPE_KEY);
      billingEnv.put("PINGVAS_STRIPE_API_BASE", stripe.apiBase());
      billingEnv.put("PINGVAS_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
      billingEnv.put("PINGVAS_STRIPE_PLANS", "pro:" + PRO_PRICE + ",studio:" + STUDIO_PRICE);
    }
    users = new Http(usersUrl);
    billing = new Http("http://127.0.0.1:" + billingPort);
  }

  BillingHarness with(String variable, String value) {
    billingEnv.put(variable, value);
    return this;
  }

  BillingHarness start() {
    userRuntime = ServiceRuntime.create(UserService.NAME, ConfigLoader.load("/users-defaults.yaml", userEnv), 1);
    join(UserService.start(userRuntime));
    billingRuntime = ServiceRuntime.create(PaymentService.NAME,
        ConfigLoader.load("/payments-defaults.yaml", billingEnv), 1);
    join(PaymentService.start(billingRuntime));
    Properties props = new Properties();
    props.put("bootstrap.servers", SharedInfra.get().kafka().bootstrap());
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    props.put("acks", "all");
    producer = new KafkaProducer<>(props);
    return this;
  }

  /** A new account: {id, email, token, key} (token = access token, key = an API key). */
  JsonObject newUser() {
    String email = "buyer-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    Http.Response r = users.post("/v1/users", null, new JsonObject().put("email", email)
        .put("password", "correct horse battery"));
    if (r.status() != 201) {
      throw new AssertionError("sign-up answered " + r.status() + ": " + r.body());
    }
    String token = r.json().getJsonObject("tokens").getString("access_token");
    String key = users.post("/v1/api-keys", token, new JsonObject().put("name", "test")).json().getString("key");
    return new JsonObject().put("id", r.json().getJsonObject("user").getString("id")).put("email", email)
        .put("token", token).put("key", key);
  }

  /** Posts a Stripe event to the webhook, signed with {@code secret} at {@code timestamp}. */
  Http.Response deliver(JsonObject event, String secret, long timestamp) {
    String payload = event.encodePrettily();
    return billing.send("POST", "/v1/billing/stripe/webhook", null, payload, "Content-Type", "application/json",
        "Stripe-Signature", StripeEvents.sign(payload, secret, timestamp));
  }

  Http.Response deliver(JsonObject event) {
    return deliver(event, WEBHOOK_SECRET, StripeEvents.now());
  }

  /** The router's reservation call. */
  Http.Response reserve(String jobId, String userId, String tier, int width, int height, int steps, int count) {
    return billing.send("POST", "/internal/v1/reservations", null, new JsonObject().put("job_id", jobId)
        .put("user_id", userId).put("tier", tier).put("model", "sd-1.5").put("width", width).put("height", height)
        .put("steps", steps).put("count", count).encode(), "X-Internal-Token", INTERNAL_TOKEN);
  }

  /** The router's release of a job's hold. */
  Http.Response release(String jobId) {
    return billing.send("POST", "/internal/v1/reservations/" + jobId + "/release", null, "{}",
        "Content-Type", "application/json", "X-Internal-Token", INTERNAL_TOKEN);
  }

  /** Publishes a job event as the router's outbox relay does (key = job id). */
  void publish(String type, String jobId, String userId) {
    publish(type, jobId, userId, jobId);
  }

  /** Publishes under another record key (same key = same partition = delivered in order). */
  void publish(String type, String jobId, String userId, String key) {
    JsonObject event = new JsonObject().put("type", type).put("job_id", jobId).put("user_id", userId).put("seq", 9)
        .put("ts", java.time.Instant.now().toString()).put("attempt", 1);
    try {
      producer.send(new ProducerRecord<>(topic, key, event.encode())).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  JsonObject balance(String credential) {
    Http.Response r = billing.get("/v1/billing/balance", credential);
    if (r.status() != 200) {
      throw new AssertionError("balance answered " + r.status() + ": " + r.body());
    }
    return r.json();
  }

  /** A connection (as the superuser) to the service's database. */
  java.sql.Connection connection() throws java.sql.SQLException {
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    return java.sql.DriverManager.getConnection(SharedInfra.get().postgres().jdbcUrl(db), "postgres", "");
  }

  /** Runs one SQL query (as the superuser) and returns the first column of the first row. */
  /** Runs SQL statements (as the superuser) that return nothing, e.g. a trigger a test installs. */
  void execute(String sql) {
    try (var c = connection(); var s = c.createStatement()) {
      s.execute(sql);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  String query(String sql) {
    try (var c = connection(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void join(io.vertx.core.Future<?> future) {
    future.toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close();
    }
    for (ServiceRuntime runtime : new ServiceRuntime[] {billingRuntime, userRuntime}) {
      if (runtime != null) {
        runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
            .exceptionally(e -> null).join();
      }
    }
    stripe.close();
  }
}
