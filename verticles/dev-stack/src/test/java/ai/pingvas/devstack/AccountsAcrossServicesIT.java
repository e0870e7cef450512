package ai.pingvas.devstack;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Accounts and credits across every service, through the stack's one public port: each route of
 * each service's contract authenticates, no user reaches another's jobs, images, keys or ledger,
 * a revoked API key stops everywhere at once, and concurrent submissions cannot overspend.
 */
class AccountsAcrossServicesIT {
  /** Operations anyone may call. */
  private static final Set<String> PUBLIC = Set.of("signUp", "createToken", "revokeToken", "getJwks",
      "stripeWebhook");
  private static DevStack stack;
  private static Http api;

  @BeforeAll
  static void start() throws Exception {
    Path data = Files.createTempDirectory("pingvas-accounts-it");
    // Studio users get exactly 10 default generations (10 credits each) a month in this stack.
    stack = DevStack.start(new DevStack.Options(data, 0, 1, false, Map.of("PINGVAS_ALLOWANCE_STUDIO", "100",
        "PINGVAS_ENGINE_STEP_TIME", "5ms")));
    api = new Http(stack.gatewayUrl());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void everyOperationOfEveryServiceRefusesAnonymousCallers() {
    Map<String, Operation> operations = operations();
    assertThat(operations).hasSizeGreaterThan(25);
    for (Operation op : operations.values()) {
      if (PUBLIC.contains(op.id())) {
        continue;
      }
      String path = op.path().replaceAll("\\{[^}]+}", UUID.randomUUID().toString());
      Http.Response r = api.send(op.method(), path, null, op.method().equals("GET")
          || op.method().equals("DELETE") ? null : "{}");
      assertThat(r.status()).as(op + " answered " + r.body()).isEqualTo(401);
      assertThat(api.send(op.method(), path, forgedToken(), op.method().equals("GET")
          || op.method().equals("DELETE") ? null : "{}").status()).as(op + " with alg:none").isEqualTo(401);
    }
  }

  @Test
  void noUserReachesAnotherUsersJobsImagesKeysOrLedgerThroughAnyRoute() throws Exception {
    User alice = studioUser();
    User bob = studioUser();
    List<JsonObject> bobEvents = new CopyOnWriteArrayList<>();
    WebSocket bobStream = stream(bob.key(), bobEvents);

    String aliceJob = api.post("/v1/generations", alice.key(), "{\"model\":\"sd-1.5\",\"prompt\":\"alice\","
        + "\"width\":256,\"height\":256,\"steps\":4}").json().getString("id");
    JsonObject done = await(() -> api.get("/v1/generations/" + aliceJob, alice.key()).json(),
        job -> job.getString("status").equals("succeeded"));
    String aliceImage = done.getJsonArray("images").getJsonObject(0).getString("id");
    await(() -> api.get("/v1/images/" + aliceImage, alice.key()), r -> r.status() == 200);
    String aliceQueued = api.post("/v1/generations", alice.key(), "{\"model\":\"sd-1.5\",\"prompt\":\"later\","
        + "\"steps\":4,\"width\":256,\"height\":256}").json().getString("id");
    JsonObject aliceKey = api.post("/v1/api-keys", alice.token(), "{\"name\":\"second\"}").json();

    Map<String, Runnable> checks = new LinkedHashMap<>();
    checks.put("submitGeneration", () -> {
      String bobJob = api.post("/v1/generations", bob.key(), "{\"model\":\"sd-1.5\",\"prompt\":\"bob\","
          + "\"steps\":4,\"width\":256,\"height\":256}").json().getString("id");
      assertThat(api.get("/v1/generations/" + bobJob, alice.key()).status()).isEqualTo(404);
    });
    checks.put("listGenerations", () -> assertThat(api.get("/v1/generations?limit=100", bob.key()).body())
        .doesNotContain(aliceJob).doesNotContain(aliceQueued));
    checks.put("getGeneration", () -> assertThat(api.get("/v1/generations/" + aliceJob, bob.key()).status())
        .isEqualTo(404));
    checks.put("cancelGeneration", () -> {
      assertThat(api.post("/v1/generations/" + aliceQueued + "/cancel", bob.key()).status()).isEqualTo(404);
      assertThat(api.get("/v1/generations/" + aliceQueued, alice.key()).json().getString("status"))
          .isNotEqualTo("canceled");
    });
    checks.put("listImages", () -> assertThat(api.get("/v1/images?limit=100", bob.key()).body())
        .doesNotContain(aliceImage));
    checks.put("getImage", () -> assertThat(api.get("/v1/images/" + aliceImage, bob.key()).status()).isEqualTo(404));
    checks.put("getImageContent", () -> assertThat(api.get("/v1/images/" + aliceImage + "/content", bob.key())
        .status()).isEqualTo(404));
    checks.put("getStorageUsage", () -> {
      User carol = studioUser();
      JsonObject usage = api.get("/v1/images/usage", carol.key()).json();
      assertThat(usage.getLong("images")).isZero();
      assertThat(usage.getLong("used_bytes")).isZero();
      assertThat(api.get("/v1/images/usage", alice.key()).json().getLong("images")).isPositive();
    });
    checks.put("deleteImage", () -> {
      assertThat(api.send("DELETE", "/v1/images/" + aliceImage, bob.key(), null).status()).isEqualTo(404);
      assertThat(api.get("/v1/images/" + aliceImage, alice.key()).status()).isEqualTo(200);
    });
    checks.put("getImageThumbnail", () -> assertThat(api.get("/v1/images/" + aliceImage + "/thumbnail", bob.key())
        .status()).isEqualTo(404));
    // The model registry is shared reading; only admins change it.
    checks.put("listModels", () -> assertThat(api.get("/v1/models", bob.key()).status()).isEqualTo(200));
    checks.put("getModel", () -> assertThat(api.get("/v1/models/sd-1.5", bob.key()).status()).isEqualTo(200));
    checks.put("createModel", () -> {
      assertThat(api.post("/v1/models", bob.key(), new JsonObject().put("name", "bobs-model").put("kind", "checkpoint")
          .put("base", "sd-1").put("size_mb", 10).put("vram_mb", 10).put("source", "local:bob").encode()).status())
          .isIn(400, 403);
      assertThat(api.get("/v1/models/bobs-model", bob.key()).status()).isEqualTo(404);
    });
    checks.put("updateModel", () -> {
      // the registry entry, without the live fleet view (loaded_on, workers), which changes on its own
      JsonObject before = registryEntry(api.get("/v1/models/sd-1.5", bob.key()).json());
      assertThat(api.send("PUT", "/v1/models/sd-1.5", bob.key(), new JsonObject().put("kind", "checkpoint")
          .put("base", "sd-1").put("size_mb", 1).put("vram_mb", 1).put("source", "local:bob").encode()).status())
          .isIn(400, 403);
      assertThat(registryEntry(api.get("/v1/models/sd-1.5", bob.key()).json())).isEqualTo(before);
      assertThat(before.getString("source")).isNotEqualTo("local:bob");
    });
    checks.put("deleteModel", () -> {
      assertThat(api.send("DELETE", "/v1/models/sd-1.5", bob.key(), null).status()).isEqualTo(403);
      assertThat(api.get("/v1/models/sd-1.5", bob.key()).status()).isEqualTo(200);
    });
    checks.put("signUp", () -> assertThat(api.post("/v1/users", null, new JsonObject().put("email", alice.email())
        .put("password", "another long password").encode()).status()).isEqualTo(409));
    checks.put("getUser", () -> assertThat(api.get("/v1/users/" + alice.id(), bob.key()).status()).isEqualTo(404));
    checks.put("updateUser", () -> assertThat(api.send("PATCH", "/v1/users/" + alice.id(), bob.key(),
        "{\"tier\":\"free\"}").status()).isEqualTo(403));
    checks.put("getMe", () -> assertThat(api.get("/v1/me", bob.key()).json().getString("id")).isEqualTo(bob.id()));
    checks.put("listTiers", () -> assertThat(api.get("/v1/tiers", bob.key()).body()).doesNotContain(alice.id()));
    checks.put("createToken", () -> assertThat(api.post("/v1/auth/token", null, new JsonObject()
        .put("grant_type", "password").put("email", alice.email()).put("password", "bob's guess").encode())
        .status()).isEqualTo(401));
    checks.put("revokeToken", () -> {
      assertThat(api.post("/v1/auth/revoke", null, new JsonObject().put("refresh_token", "pvr_guess").encode())
          .status()).isEqualTo(204);
      assertThat(api.post("/v1/auth/token", null, new JsonObject().put("grant_type", "refresh_token")
          .put("refresh_token", alice.refresh()).encode()).status()).isEqualTo(200);
    });
    checks.put("rotateSigningKey", () -> assertThat(api.post("/v1/auth/signing-keys", bob.key()).status())
        .isEqualTo(403));
    checks.put("retireSigningKey", () -> {
      String kid = api.get("/.well-known/jwks.json", null).json().getJsonArray("keys").getJsonObject(0)
          .getString("kid");
      assertThat(api.send("DELETE", "/v1/auth/signing-keys/" + kid, bob.key(), null).status()).isEqualTo(403);
      assertThat(api.get("/.well-known/jwks.json", null).body()).contains(kid);
    });
    checks.put("listApiKeys", () -> assertThat(api.get("/v1/api-keys", bob.key()).body())
        .doesNotContain(aliceKey.getString("id")));
    checks.put("createApiKey", () -> {
      String bobKeyId = api.post("/v1/api-keys", bob.key(), "{\"name\":\"bob2\"}").json().getString("id");
      assertThat(api.get("/v1/api-keys", alice.key()).body()).doesNotContain(bobKeyId);
    });
    checks.put("revokeApiKey", () -> {
      assertThat(api.send("DELETE", "/v1/api-keys/" + aliceKey.getString("id"), bob.key(), null).status())
          .isEqualTo(404);
      assertThat(api.get("/v1/me", aliceKey.getString("key")).status()).isEqualTo(200);
    });
    checks.put("getJwks", () -> assertThat(api.get("/.well-known/jwks.json", null).body()).doesNotContain("\"d\""));
    checks.put("getBalance", () -> assertThat(api.get("/v1/billing/balance", bob.key()).json().getLong("available"))
        .isBetween(0L, 100L));
    checks.put("listLedger", () -> assertThat(api.get("/v1/billing/ledger?limit=100", bob.key()).body())
        .doesNotContain(aliceJob).doesNotContain(aliceQueued));
    checks.put("createCheckout", () -> assertThat(api.post("/v1/billing/checkout", bob.key(),
        "{\"pack\":\"starter\"}").status()).isEqualTo(409));
    checks.put("reconcile", () -> assertThat(api.get("/v1/billing/reconciliation", bob.key()).status())
        .isEqualTo(403));
    checks.put("createAdjustment", () -> assertThat(api.post("/v1/billing/adjustments", bob.key(),
        new JsonObject().put("user_id", alice.id()).put("amount", -50).put("reason", "theft").encode()).status())
        .isEqualTo(403));
    checks.put("stripeWebhook", () -> assertThat(api.post("/v1/billing/stripe/webhook", null, "{}").status())
        .isIn(400, 404));

    // Operator routes: a customer is refused and nothing moves.
    checks.put("adminOverview", () -> assertThat(api.get("/v1/admin/overview", bob.key()).status())
        .isEqualTo(403));
    checks.put("adminDrainWorker", () -> assertThat(api.post("/v1/admin/workers/" + UUID.randomUUID() + "/drain",
        bob.key()).status()).isEqualTo(403));
    checks.put("adminCancelJob", () -> {
      assertThat(api.post("/v1/admin/jobs/" + aliceQueued + "/cancel", bob.key()).status()).isEqualTo(403);
      assertThat(api.get("/v1/generations/" + aliceQueued, alice.key()).json().getString("status"))
          .isNotEqualTo("canceled");
    });
    checks.put("adminRequeueJobs", () -> assertThat(api.post("/v1/admin/jobs/requeue", bob.key(),
        new JsonObject().put("job_ids", new JsonArray().add(aliceJob)).encode()).status())
        .isEqualTo(403));

    // The table must cover every operation every service publishes: a new route fails here until it has a case.
    assertThat(checks.keySet()).containsExactlyInAnyOrderElementsOf(operations().keySet());
    checks.forEach((operation, check) -> {
      try {
        check.run();
      } catch (AssertionError e) {
        throw new AssertionError(operation + ": " + e.getMessage(), e);
      }
    });
    // Alice's finished job was charged once, from its job.succeeded event
    JsonObject charged = await(() -> api.get("/v1/billing/ledger?limit=100", alice.key()).json(),
        page -> page.getJsonArray("items").stream().map(JsonObject.class::cast)
            .anyMatch(e -> aliceJob.equals(e.getString("job_id")) && "capture".equals(e.getString("kind"))));
    assertThat(charged.getJsonArray("items").stream().map(JsonObject.class::cast)
        .filter(e -> aliceJob.equals(e.getString("job_id"))).map(e -> e.getString("kind")).toList())
        .containsExactlyInAnyOrder("reserve", "capture");
    // Bob's event stream never carried Alice's jobs.
    assertThat(bobEvents).isNotEmpty().noneMatch(e -> aliceJob.equals(e.getString("job_id"))
        || aliceQueued.equals(e.getString("job_id")));
    bobStream.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
  }

  @Test
  void aRevokedApiKeyStopsWorkingInEveryServiceAtOnce() {
    User user = studioUser();
    JsonObject created = api.post("/v1/api-keys", user.token(), "{\"name\":\"ci\"}").json();
    String key = created.getString("key");
    List<String> reads = List.of("/v1/generations", "/v1/images", "/v1/billing/balance", "/v1/me");
    for (String path : reads) {
      assertThat(api.get(path, key).status()).as(path).isEqualTo(200);
    }
    assertThat(api.send("DELETE", "/v1/api-keys/" + created.getString("id"), user.token(), null).status())
        .isEqualTo(204);
    for (String path : reads) {
      assertThat(api.get(path, key).status()).as(path + " after revocation").isEqualTo(401);
    }
  }

  @Test
  void fiftyParallelSubmissionsAgainstCreditsForTenAcceptExactlyTen() throws Exception {
    User user = studioUser();
    ExecutorService pool = Executors.newFixedThreadPool(50);
    List<Future<Http.Response>> results = new ArrayList<>();
    long began = System.nanoTime();
    try {
      for (int i = 0; i < 50; i++) {
        String body = "{\"model\":\"sd-1.5\",\"prompt\":\"race " + i + "\",\"width\":512,\"height\":512,\"steps\":30}";
        results.add(pool.submit(() -> api.post("/v1/generations", user.key(), body)));
      }
      int accepted = 0;
      int refused = 0;
      for (Future<Http.Response> f : results) {
        Http.Response r = f.get(60, TimeUnit.SECONDS);
        if (r.status() == 202) {
          accepted++;
        } else {
          assertThat(r.status()).as(r.body()).isEqualTo(402);
          assertThat(r.json().getString("code")).isEqualTo("insufficient_credits");
          refused++;
        }
      }
      System.out.printf("50 parallel submissions answered in %d ms%n", (System.nanoTime() - began) / 1_000_000);
      assertThat(accepted).isEqualTo(10);
      assertThat(refused).isEqualTo(40);
    } finally {
      pool.shutdownNow();
    }
    JsonObject balance = api.get("/v1/billing/balance", user.key()).json();
    assertThat(balance.getLong("available")).isZero();
    assertThat(balance.getLong("available") + balance.getLong("reserved")).isLessThanOrEqualTo(100);
    assertThat(api.get("/v1/generations?limit=100", user.key()).json().getJsonArray("items")).hasSize(10);
    JsonObject books = api.get("/v1/billing/reconciliation", stack.devApiKey()).json();
    assertThat(books.getBoolean("consistent")).as(books.encodePrettily()).isTrue();
    assertThat(books.getJsonArray("negative_user_balances")).isEmpty();
  }

  @Test
  void aReservationThatOutlivesTheRoutersPatienceHoldsNothingOnceItCommits() throws Exception {
    User user = studioUser();
    assertThat(api.get("/v1/billing/balance", user.key()).json().getLong("available")).isEqualTo(100);
    String account = "user:" + user.id();
    try (java.sql.Connection lock = payments()) {
      lock.setAutoCommit(false);
      try (var s = lock.createStatement()) {
        // the user's balance is busy: the router's reservation waits for it past its 5 s timeout
        try (var rs = s.executeQuery("SELECT amount FROM payments.balances WHERE account = '" + account
            + "' FOR UPDATE")) {
          assertThat(rs.next()).as("the balance row of " + account).isTrue();
        }
      }
      Http.Response r = api.post("/v1/generations", user.key(),
          new JsonObject().put("model", "sd-1.5").put("prompt", "slow billing").put("steps", 30).encode());
      assertThat(r.status()).as(r.body()).isEqualTo(503);
      assertThat(r.json().getString("code")).isEqualTo("billing_unavailable");
      // the router released what it could not see: the job is voided while its reservation still waits
      assertThat(await(() -> sql("SELECT count(*) FROM payments.reservations WHERE status = 'voided'"),
          n -> Integer.parseInt(n) > 0)).isNotNull();
      lock.rollback();
    }
    // the reservation ran once the lock went; it found its job voided and held nothing
    await(() -> sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
        + "'%balances%'"), "0"::equals);
    assertThat(sql("SELECT count(*) FROM payments.reservations WHERE user_id = '" + user.id() + "'")).isEqualTo("0");
    JsonObject balance = api.get("/v1/billing/balance", user.key()).json();
    assertThat(balance.getLong("available")).isEqualTo(100);
    assertThat(balance.getLong("reserved")).isZero();
    assertThat(api.get("/v1/generations?limit=10", user.key()).json().getJsonArray("items")).isEmpty();
  }

  private static java.sql.Connection payments() throws java.sql.SQLException {
    return java.sql.DriverManager.getConnection(stack.infra().postgres().jdbcUrl(
        ai.pingvas.embedded.PostgresServer.DATABASE), "postgres", "");
  }

  private static String sql(String query) {
    try (var c = payments(); var s = c.createStatement(); var rs = s.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  // --- helpers ---

  private record User(String id, String email, String token, String refresh, String key) {
  }

  private record Operation(String id, String method, String path) {
  }

  /** A new account made studio by the dev admin, with an API key. */
  private static User studioUser() {
    String email = "u-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    JsonObject signUp = api.post("/v1/users", null, new JsonObject().put("email", email)
        .put("password", "correct horse battery").encode()).json();
    String id = signUp.getJsonObject("user").getString("id");
    assertThat(api.send("PATCH", "/v1/users/" + id, stack.devApiKey(), "{\"tier\":\"studio\"}").status())
        .isEqualTo(200);
    String token = signUp.getJsonObject("tokens").getString("access_token");
    String key = api.post("/v1/api-keys", token, "{\"name\":\"main\"}").json().getString("key");
    return new User(id, email, token, signUp.getJsonObject("tokens").getString("refresh_token"), key);
  }

  /** Every operation of every service's published contract, by operation id. */
  @SuppressWarnings("unchecked")
  private static Map<String, Operation> operations() {
    Map<String, Operation> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> service : stack.serviceUrls().entrySet()) {
      if (!service.getKey().endsWith("-service")) {
        continue; // workers have an ops port, no public API
      }
      String url = service.getValue();
      Http.Response contract = new Http(url).get("/openapi.yaml", null);
      assertThat(contract.status()).as(service.getKey() + " at " + url + ": " + contract.body()).isEqualTo(200);
      Map<String, Object> doc = new Yaml().load(contract.body());
      Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
      paths.forEach((path, methods) -> methods.forEach((method, op) -> {
        if (op instanceof Map<?, ?> map && map.get("operationId") != null) {
          out.put((String) map.get("operationId"), new Operation((String) map.get("operationId"),
              method.toUpperCase(), path));
        }
      }));
    }
    return out;
  }

  private static String forgedToken() {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"x\"}"
        .getBytes(StandardCharsets.UTF_8));
    String claims = b64.encodeToString(("{\"sub\":\"" + UUID.randomUUID() + "\",\"tier\":\"studio\","
        + "\"roles\":[\"admin\"],\"iss\":\"pingvas-user-service\",\"aud\":\"pingvas-api\",\"exp\":"
        + (System.currentTimeMillis() / 1000 + 600) + "}").getBytes(StandardCharsets.UTF_8));
    return header + "." + claims + ".";
  }

  private static WebSocket stream(String key, List<JsonObject> events) throws Exception {
    String ws = stack.gatewayUrl().replace("http://", "ws://") + "/v1/stream";
    WebSocket socket = Http.client().newWebSocketBuilder().header("Authorization", "Bearer " + key)
        .buildAsync(URI.create(ws), new WebSocket.Listener() {
          private final StringBuilder partial = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              events.add(new JsonObject(partial.toString()));
              partial.setLength(0);
            }
            webSocket.request(1);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    await(() -> events, list -> !list.isEmpty());
    return socket;
  }

  private static <T> T await(java.util.function.Supplier<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = probe.get();
      if (done.test(last)) {
        return last;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("condition not reached in 60 s; last: " + last);
  }

  private static JsonObject registryEntry(JsonObject model) {
    JsonObject entry = model.copy();
    entry.remove("loaded_on");
    entry.remove("workers");
    return entry;
  }
}
