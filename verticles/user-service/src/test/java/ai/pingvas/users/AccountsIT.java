package ai.pingvas.users;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sign-up, login, refresh, API keys, tiers and the admin role against a real user-service. */
class AccountsIT {
  private static UserHarness users;
  private static Http http;

  @BeforeAll
  static void start() {
    users = new UserHarness("accounts").start();
    http = users.http;
  }

  @AfterAll
  static void stop() {
    users.close();
  }

  @Test
  void signUpGivesAFreeAccountWithTokensAndLimits() {
    JsonObject created = users.signUp();
    JsonObject me = http.get("/v1/me", UserHarness.accessToken(created)).json();
    assertThat(me.getString("email")).isEqualTo(created.getString("email"));
    assertThat(me.getString("tier")).isEqualTo("free");
    assertThat(me.getString("auth_method")).isEqualTo("jwt");
    assertThat(me.getJsonObject("limits").getInteger("max_resolution")).isEqualTo(1024);
    assertThat(me.getJsonObject("limits").getInteger("requests_per_minute")).isEqualTo(10);
  }

  @Test
  void storesPasswordsAsArgon2idHashes() {
    JsonObject created = users.signUp();
    String hash = users.query("SELECT password_hash FROM users.users WHERE id = '"
        + created.getJsonObject("user").getString("id") + "'");
    assertThat(hash).startsWith("$argon2id$v=19$m=4096,t=1,p=1$").doesNotContain("correct horse");
  }

  @Test
  void refusesADuplicateEmailWhateverItsCase() {
    JsonObject created = users.signUp();
    Http.Response again = http.post("/v1/users", null, new JsonObject()
        .put("email", created.getString("email").toUpperCase()).put("password", "another long password"));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.json().getString("code")).isEqualTo("email_taken");
  }

  @Test
  void refusesAShortPasswordWith400() {
    Http.Response r = http.post("/v1/users", null, new JsonObject().put("email", "short@example.com")
        .put("password", "short"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().getString("code")).isEqualTo("validation_failed");
  }

  @Test
  void refusesTextNoAccountCanHoldWith400NamingTheField() {
    Http.Response empty = http.post("/v1/users", null, new JsonObject().put("email", "")
        .put("password", "long enough password"));
    assertThat(empty.status()).as(empty.body()).isEqualTo(400);
    assertThat(empty.json().getString("detail")).contains("/email");
    Http.Response nul = http.post("/v1/users", null, new JsonObject().put("email", "nul@example.com")
        .put("password", "long enough password").put("name", "Ada\u0000"));
    assertThat(nul.status()).as(nul.body()).isEqualTo(400);
    assertThat(nul.json().getString("detail")).isEqualTo("/name: must not contain the NUL character (U+0000)");
    assertThat(users.query("SELECT count(*) FROM users.users WHERE email IN ('', 'nul@example.com')"))
        .isEqualTo("0");
  }

  @Test
  void aUserIdIsAUuidInEitherCaseAndNothingElse() {
    JsonObject alice = users.signUp();
    String token = UserHarness.accessToken(alice);
    String id = alice.getJsonObject("user").getString("id");
    Http.Response upper = http.get("/v1/users/" + id.toUpperCase(), token);
    assertThat(upper.status()).as(upper.body()).isEqualTo(200);
    assertThat(upper.json().getString("id")).isEqualTo(id);
    Http.Response urn = http.get("/v1/users/urn:uuid:" + id, token);
    assertThat(urn.status()).as(urn.body()).isEqualTo(400);
    assertThat(urn.json().getString("detail")).startsWith("path parameter id:");
    assertThat(http.send("DELETE", "/v1/api-keys/urn:uuid:" + id, token, null).status()).isEqualTo(400);
  }

  @Test
  void logsInWithTheRightPasswordOnly() {
    JsonObject created = users.signUp();
    JsonObject login = new JsonObject().put("grant_type", "password").put("email", created.getString("email"));
    assertThat(http.post("/v1/auth/token", null, login.copy().put("password", "wrong password!")).status())
        .isEqualTo(401);
    assertThat(http.post("/v1/auth/token", null, login.copy().put("email", "nobody@example.com")
        .put("password", "correct horse battery")).status()).isEqualTo(401);
    Http.Response ok = http.post("/v1/auth/token", null, login.copy().put("password", "correct horse battery"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().getString("token_type")).isEqualTo("Bearer");
    assertThat(http.get("/v1/me", ok.json().getString("access_token")).status()).isEqualTo(200);
  }

  @Test
  void refreshTokensAreSingleUseAndAReplayRevokesTheFamily() {
    String first = users.signUp().getJsonObject("tokens").getString("refresh_token");
    Http.Response refreshed = http.post("/v1/auth/token", null, refresh(first));
    assertThat(refreshed.status()).isEqualTo(200);
    String second = refreshed.json().getString("refresh_token");
    assertThat(second).isNotEqualTo(first);
    // replaying the used token fails, and also kills the token that replaced it
    assertThat(http.post("/v1/auth/token", null, refresh(first)).status()).isEqualTo(401);
    assertThat(http.post("/v1/auth/token", null, refresh(second)).status()).isEqualTo(401);
  }

  @Test
  void logoutRevokesTheRefreshToken() {
    String token = users.signUp().getJsonObject("tokens").getString("refresh_token");
    assertThat(http.post("/v1/auth/revoke", null, new JsonObject().put("refresh_token", token)).status())
        .isEqualTo(204);
    assertThat(http.post("/v1/auth/token", null, refresh(token)).status()).isEqualTo(401);
  }

  /**
   * Slows the storing of the user's refresh tokens (a trigger sleeping 1 s on their INSERT), so a
   * second request can arrive while a rotation is between using up a token and storing the next one.
   */
  private static String slowRefreshTokens(String userId) {
    String name = "slow_refresh_" + userId.replace("-", "");
    users.execute("CREATE FUNCTION users." + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.user_id = '" + userId + "' THEN PERFORM pg_sleep(1.0); END IF; RETURN NEW; END $$; "
        + "CREATE TRIGGER " + name + " BEFORE INSERT ON users.refresh_tokens FOR EACH ROW "
        + "EXECUTE FUNCTION users." + name + "()");
    return "DROP TRIGGER " + name + " ON users.refresh_tokens; DROP FUNCTION users." + name + "()";
  }

  /**
   * Waits until a request sleeps in the slowed INSERT (see {@link #slowRefreshTokens}): its rotation
   * has used up the token and holds the family's lock, so what comes next races it, whatever the
   * machine's speed.
   */
  private static void awaitSlowedInsert() throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
    while (!"1".equals(users.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
        + "AND datname = current_database()"))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the first request never reached the slowed insert");
      }
      Thread.sleep(10);
    }
  }

  /**
   * Refreshes a new login's token and, while that rotation is in flight (between using the token up
   * and storing the next), runs {@code racer} with the same token; returns what the racer got, then
   * what the rotation got.
   */
  private static Http.Response[] raceARotation(Function<String, Http.Response> racer) throws Exception {
    JsonObject account = users.signUp();
    String token = account.getJsonObject("tokens").getString("refresh_token");
    String drop = slowRefreshTokens(account.getJsonObject("user").getString("id"));
    try {
      CompletableFuture<Http.Response> rotation = CompletableFuture.supplyAsync(
          () -> http.post("/v1/auth/token", null, refresh(token)));
      awaitSlowedInsert();
      Http.Response raced = racer.apply(token);
      return new Http.Response[] {raced, rotation.get(10, TimeUnit.SECONDS)};
    } finally {
      users.execute(drop);
    }
  }

  @Test
  void aReplayRacingARotationAlsoRevokesTheTokenTheRotationAdds() throws Exception {
    // a thief refreshes first; the owner presents the same token while that rotation is in flight
    Http.Response[] race = raceARotation(stolen -> http.post("/v1/auth/token", null, refresh(stolen)));
    assertThat(race[0].status()).isEqualTo(401);
    assertThat(race[1].status()).isEqualTo(200);
    // the replay revoked the family, including the token the thief's rotation stored after it
    assertThat(http.post("/v1/auth/token", null, refresh(race[1].json().getString("refresh_token"))).status())
        .isEqualTo(401);
  }

  @Test
  void aLogoutRacingARotationAlsoRevokesTheTokenTheRotationAdds() throws Exception {
    Http.Response[] race = raceARotation(token -> http.post("/v1/auth/revoke", null,
        new JsonObject().put("refresh_token", token)));
    assertThat(race[0].status()).isEqualTo(204);
    assertThat(race[1].status()).isEqualTo(200);
    assertThat(http.post("/v1/auth/token", null, refresh(race[1].json().getString("refresh_token"))).status())
        .as("the logout ends the login, including the token a rotation in flight stored").isEqualTo(401);
  }

  @Test
  void aSignUpThatFailsToIssueItsTokensLeavesNoAccountSoItsRetrySucceeds() {
    String email = "retry-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    String name = "fail_once_" + email.substring(6, 14);
    // the first refresh token stored for this e-mail fails (a sequence: not undone by the rollback)
    users.execute("CREATE SEQUENCE users." + name + "; CREATE FUNCTION users." + name + "() RETURNS trigger "
        + "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN IF (SELECT email FROM users.users WHERE id = NEW.user_id) = '" + email
        + "' AND nextval('users." + name + "') = 1 THEN RAISE EXCEPTION 'injected failure'; END IF; "
        + "RETURN NEW; END $$; CREATE TRIGGER " + name + " BEFORE INSERT ON users.refresh_tokens "
        + "FOR EACH ROW EXECUTE FUNCTION users." + name + "()");
    try {
      JsonObject body = new JsonObject().put("email", email).put("password", "correct horse battery");
      Http.Response failed = http.post("/v1/users", null, body);
      assertThat(failed.status()).isGreaterThanOrEqualTo(500);
      assertThat(users.query("SELECT count(*) FROM users.users WHERE email = '" + email + "'")).isEqualTo("0");
      Http.Response retried = http.post("/v1/users", null, body);
      assertThat(retried.status()).as(retried.body()).isEqualTo(201);
      assertThat(http.get("/v1/me", retried.json().getJsonObject("tokens").getString("access_token")).status())
          .isEqualTo(200);
    } finally {
      users.execute("DROP TRIGGER " + name + " ON users.refresh_tokens; DROP FUNCTION users." + name
          + "(); DROP SEQUENCE users." + name);
    }
  }

  @Test
  void apiKeysAreShownOnceListedWithoutSecretsAndStopAtOnceWhenRevoked() {
    String token = UserHarness.accessToken(users.signUp());
    Http.Response created = http.post("/v1/api-keys", token, new JsonObject().put("name", "ci"));
    assertThat(created.status()).isEqualTo(201);
    String key = created.json().getString("key");
    String id = created.json().getString("id");
    assertThat(key).startsWith("pv_");
    assertThat(http.get("/v1/me", key).json().getString("auth_method")).isEqualTo("api_key");

    JsonObject listed = http.get("/v1/api-keys", token).json().getJsonArray("items").getJsonObject(0);
    assertThat(listed.getString("id")).isEqualTo(id);
    assertThat(listed.getString("prefix")).isEqualTo(key.substring(0, 10));
    assertThat(listed.containsKey("key")).isFalse();
    assertThat(users.query("SELECT count(*) FROM users.api_keys WHERE encode(key_hash, 'escape') LIKE '%"
        + key.substring(3) + "%'")).isEqualTo("0");

    assertThat(http.send("DELETE", "/v1/api-keys/" + id, token, null).status()).isEqualTo(204);
    assertThat(http.get("/v1/me", key).status()).isEqualTo(401);
  }

  @Test
  void anAccountHoldsAtMostAHundredActiveKeysAndListsABoundedNumber() {
    String token = UserHarness.accessToken(users.signUp());
    String first = null;
    for (int i = 0; i < 100; i++) {
      Http.Response created = http.post("/v1/api-keys", token, new JsonObject().put("name", "k" + i));
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      first = first == null ? created.json().getString("id") : first;
    }
    Http.Response refused = http.post("/v1/api-keys", token, new JsonObject().put("name", "one too many"));
    assertThat(refused.status()).as(refused.body()).isEqualTo(409);
    assertThat(refused.json().getString("code")).isEqualTo("too_many_api_keys");
    assertThat(http.send("DELETE", "/v1/api-keys/" + first, token, null).status()).isEqualTo(204);
    assertThat(http.post("/v1/api-keys", token, new JsonObject().put("name", "in its place")).status())
        .as("a revoked key makes room").isEqualTo(201);
    var items = http.get("/v1/api-keys", token).json().getJsonArray("items");
    assertThat(items).hasSize(101);
    assertThat(items.getJsonObject(100).getString("id")).as("revoked keys after the active ones").isEqualTo(first);
  }

  @Test
  void aUserCannotSeeOrRevokeAnotherUsersKeysOrAccount() {
    JsonObject alice = users.signUp();
    String aliceToken = UserHarness.accessToken(alice);
    String bobToken = UserHarness.accessToken(users.signUp());
    String aliceKeyId = http.post("/v1/api-keys", aliceToken, new JsonObject().put("name", "a")).json().getString("id");

    assertThat(http.send("DELETE", "/v1/api-keys/" + aliceKeyId, bobToken, null).status()).isEqualTo(404);
    assertThat(http.get("/v1/api-keys", bobToken).json().getJsonArray("items")).isEmpty();
    String aliceId = alice.getJsonObject("user").getString("id");
    assertThat(http.get("/v1/users/" + aliceId, bobToken).status()).isEqualTo(404);
    assertThat(http.get("/v1/users/" + aliceId, aliceToken).status()).isEqualTo(200);
    assertThat(http.send("PATCH", "/v1/users/" + aliceId, bobToken, "{\"tier\":\"studio\"}").status())
        .isEqualTo(403);
    assertThat(http.post("/v1/auth/signing-keys", bobToken).status()).isEqualTo(403);
  }

  @Test
  void anAdminChangesTiersAndTheNewTierReachesApiKeysAtOnce() {
    JsonObject user = users.signUp();
    String token = UserHarness.accessToken(user);
    String key = http.post("/v1/api-keys", token, new JsonObject().put("name", "k")).json().getString("key");
    String id = user.getJsonObject("user").getString("id");
    Http.Response patched = http.send("PATCH", "/v1/users/" + id, UserHarness.ADMIN_KEY, "{\"tier\":\"pro\"}");
    assertThat(patched.status()).isEqualTo(200);
    assertThat(http.get("/v1/me", key).json().getString("tier")).isEqualTo("pro");
    assertThat(http.get("/v1/me", key).json().getJsonObject("limits").getInteger("max_resolution")).isEqualTo(1536);
  }

  @Test
  void internalRoutesNeedTheServiceToken() {
    assertThat(http.get("/internal/v1/tiers", null).status()).isEqualTo(401);
    Http.Response tiers = http.send("GET", "/internal/v1/tiers", null, null, "X-Internal-Token",
        UserHarness.INTERNAL_TOKEN);
    assertThat(tiers.json().getJsonObject("tiers").getJsonObject("studio").getInteger("max_resolution"))
        .isEqualTo(2048);
    String id = users.signUp().getJsonObject("user").getString("id");
    assertThat(http.get("/internal/v1/users/" + id, null).status()).isEqualTo(401);
    assertThat(http.send("GET", "/internal/v1/users/" + id, null, null, "X-Internal-Token",
        UserHarness.INTERNAL_TOKEN).json().getJsonObject("limits").getLong("storage_quota_bytes"))
        .isEqualTo(1024L * 1024 * 1024);
    assertThat(http.send("PUT", "/internal/v1/users/" + id + "/tier", null, "{\"tier\":\"studio\"}").status())
        .isEqualTo(401);
    assertThat(http.send("PUT", "/internal/v1/users/" + id + "/tier", null, "{\"tier\":\"studio\"}",
        "X-Internal-Token", UserHarness.INTERNAL_TOKEN).json().getString("tier")).isEqualTo("studio");
  }

  @Test
  void everyEndpointButSignUpLoginLogoutAndKeysNeedsCredentials() {
    assertThat(http.get("/v1/me", null).status()).isEqualTo(401);
    assertThat(http.get("/v1/tiers", null).status()).isEqualTo(401);
    assertThat(http.get("/v1/api-keys", null).status()).isEqualTo(401);
    assertThat(http.get("/v1/me", "pv_not_a_key").status()).isEqualTo(401);
    assertThat(http.get("/.well-known/jwks.json", null).status()).isEqualTo(200);
  }

  private static JsonObject refresh(String token) {
    return new JsonObject().put("grant_type", "refresh_token").put("refresh_token", token);
  }
}
