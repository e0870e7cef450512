package ai.pingvas.users;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.auth.JwksSource;
import ai.pingvas.platform.auth.JwtAuthenticator;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.users.keys.EcKeys;
import ai.pingvas.users.keys.KeyCipher;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Access-token security and key rotation. Forged tokens are signed with user-service's real key
 * (read from its table and decrypted with the configured secret) so that only the claim under test
 * is wrong; each is presented both to user-service and to the platform verifier every other
 * service runs (JWK Set over HTTP).
 */
class TokensIT {
  private static UserHarness users;
  private static Http http;
  private static Vertx vertx;
  private static JwtAuthenticator verifier;

  @BeforeAll
  static void start() {
    users = new UserHarness("tokens").with("PINGVAS_SIGNING_PUBLISH_AHEAD", "1s")
        .with("PINGVAS_SIGNING_RELOAD_EVERY", "200ms").start();
    http = users.http;
    vertx = Vertx.vertx();
    verifier = new JwtAuthenticator(vertx, JwksSource.http(vertx, users.baseUrl() + "/.well-known/jwks.json"),
        "pingvas-user-service", "pingvas-api", Duration.ofMinutes(5));
  }

  @AfterAll
  static void stop() {
    users.close();
    vertx.close();
  }

  @Test
  void issuesEs256TokensWithAKidFromThePublishedKeySet() throws Exception {
    JsonObject signUp = users.signUp();
    String token = UserHarness.accessToken(signUp);
    JsonObject header = segment(token, 0);
    assertThat(header.getString("alg")).isEqualTo("ES256");
    JsonArray keys = http.get("/.well-known/jwks.json", null).json().getJsonArray("keys");
    assertThat(keys.stream().map(k -> ((JsonObject) k).getString("kid"))).contains(header.getString("kid"));
    assertThat(keys.getJsonObject(0).containsKey("d")).isFalse();
    Principal principal = verify(token);
    assertThat(principal.userId()).isEqualTo(signUp.getJsonObject("user").getString("id"));
    assertThat(principal.tier()).isEqualTo("free");
  }

  @Test
  void refusesForgedExpiredForeignAndUnsignedTokensEverywhere() throws Exception {
    JsonObject signUp = users.signUp();
    String valid = UserHarness.accessToken(signUp);
    String subject = signUp.getJsonObject("user").getString("id");
    JsonObject header = segment(valid, 0);
    String kid = header.getString("kid");
    JWTAuth realKey = realSigner(kid);
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = new JsonObject().put("sub", subject).put("tier", "studio").put("roles", new JsonArray());

    assertThat(verify(valid).userId()).isEqualTo(subject);
    assertThat(http.get("/v1/me", valid).status()).isEqualTo(200);

    String otherKey = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions()
            .setAlgorithm("ES256").setId(kid).setBuffer(EcKeys.privatePem(EcKeys.generate().getPrivate().getEncoded()))))
        .generateToken(claims, options(kid, "pingvas-api", 600));
    String expired = realKey.generateToken(claims.copy().put("iss", "pingvas-user-service").put("aud", "pingvas-api")
        .put("iat", now - 3600).put("exp", now - 300), new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true)
        .setHeader(new JsonObject().put("kid", kid)));
    String foreignAudience = realKey.generateToken(claims, options(kid, "another-api", 600));
    String foreignIssuer = realKey.generateToken(claims, options(kid, "pingvas-api", 600).setIssuer("someone-else"));
    String body = b64(claims.copy().put("iss", "pingvas-user-service").put("aud", "pingvas-api")
        .put("exp", now + 600).encode());
    String algNone = b64("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}") + "." + body + ".";
    String tampered = valid.substring(0, valid.indexOf('.') + 1) + body + valid.substring(valid.lastIndexOf('.'));

    for (String forged : List.of(otherKey, expired, foreignAudience, foreignIssuer, algNone, tampered)) {
      assertThat(http.get("/v1/me", forged).status()).as(forged).isEqualTo(401);
      assertThat(refused(forged)).as(forged).isTrue();
    }
  }

  @Test
  void rotatesKeysWithoutRefusingTokensSignedBeforeOrAfter() throws Exception {
    JsonObject signUp = users.signUp();
    String before = UserHarness.accessToken(signUp);
    String oldKid = segment(before, 0).getString("kid");
    assertThat(verify(before).userId()).isNotNull();

    Http.Response rotated = http.post("/v1/auth/signing-keys", UserHarness.ADMIN_KEY);
    assertThat(rotated.status()).isEqualTo(201);
    String newKid = rotated.json().getString("kid");
    // published at once, signing only after the publish-ahead
    assertThat(http.get("/.well-known/jwks.json", null).body()).contains(oldKid).contains(newKid);

    String after = tokenSignedWith(signUp, newKid);
    assertThat(after).as("a token signed with the new key").isNotNull();
    // the verifier learns the new kid on first sight; the old key still verifies its tokens
    assertThat(verify(after).userId()).isEqualTo(verify(before).userId());
    assertThat(http.get("/v1/me", before).status()).isEqualTo(200);
    assertThat(http.get("/v1/me", after).status()).isEqualTo(200);
  }

  @Test
  void retiresAKeyAtOnceButNeverTheOneThatSigns() throws Exception {
    JsonObject signUp = users.signUp();
    String old = UserHarness.accessToken(signUp);
    String oldKid = segment(old, 0).getString("kid");
    String path = "/v1/auth/signing-keys/" + oldKid;

    assertThat(http.send("DELETE", path, old, null).status()).as("not an admin").isEqualTo(403);
    assertThat(http.send("DELETE", "/v1/auth/signing-keys/k-no-such-key", UserHarness.ADMIN_KEY, null).status())
        .isEqualTo(404);
    Http.Response signing = http.send("DELETE", path, UserHarness.ADMIN_KEY, null);
    assertThat(signing.status()).as("the signer").isEqualTo(409);
    assertThat(signing.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/problem+json"));
    assertThat(signing.body()).contains("key_signing").contains(oldKid);
    assertThat(http.get("/v1/me", old).status()).as("refused retirement changes nothing").isEqualTo(200);

    String newKid = http.post("/v1/auth/signing-keys", UserHarness.ADMIN_KEY).json().getString("kid");
    String fresh = tokenSignedWith(signUp, newKid);
    assertThat(fresh).as("a token signed with the new key").isNotNull();
    assertThat(http.send("DELETE", path, UserHarness.ADMIN_KEY, null).status()).isEqualTo(204);

    assertThat(http.get("/.well-known/jwks.json", null).body()).doesNotContain(oldKid).contains(newKid);
    int status = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && (status = http.get("/v1/me", old).status()) != 401) {
      Thread.sleep(100);
    }
    assertThat(status).as("a token of the retired key at user-service").isEqualTo(401);
    JwtAuthenticator otherService = new JwtAuthenticator(vertx,
        JwksSource.http(vertx, users.baseUrl() + "/.well-known/jwks.json"), "pingvas-user-service", "pingvas-api",
        Duration.ofMinutes(5));
    assertThat(refused(otherService, old)).as("a verifier that fetches the key set").isTrue();
    assertThat(http.get("/v1/me", fresh).status()).isEqualTo(200);
    assertThat(http.send("DELETE", path, UserHarness.ADMIN_KEY, null).status()).as("already gone").isEqualTo(404);
  }

  @Test
  void aKeyRetiredOnOneReplicaLeavesEveryReplicaAtOnce() throws Exception {
    // the other replica reloads its ring only every minute: what it learns sooner, it was told
    try (UserHarness other = users.replica().with("PINGVAS_SIGNING_RELOAD_EVERY", "60s").start()) {
      JsonObject signUp = users.signUp();
      String old = UserHarness.accessToken(signUp);
      String oldKid = segment(old, 0).getString("kid");
      assertThat(other.http.get("/v1/me", old).status()).isEqualTo(200);

      String newKid = http.post("/v1/auth/signing-keys", UserHarness.ADMIN_KEY).json().getString("kid");
      assertThat(waitFor(() -> other.http.get("/.well-known/jwks.json", null).body().contains(newKid)))
          .as("a key made on one replica is published by the other").isTrue();
      assertThat(tokenSignedWith(signUp, newKid)).as("the new key signs").isNotNull();
      assertThat(http.send("DELETE", "/v1/auth/signing-keys/" + oldKid, UserHarness.ADMIN_KEY, null).status())
          .isEqualTo(204);

      assertThat(waitFor(() -> !other.http.get("/.well-known/jwks.json", null).body().contains(oldKid)))
          .as("the retired key left the other replica's JWK Set").isTrue();
      assertThat(waitFor(() -> other.http.get("/v1/me", old).status() == 401))
          .as("a token of the retired key at the other replica").isTrue();
    }
  }

  /** Polls {@code condition} for up to 3 s (the other replica's own reload is a minute away). */
  private static boolean waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(50);
    }
    return condition.getAsBoolean();
  }

  /**
   * Refreshes the sign-up's login until a token comes back signed with {@code kid} (after the
   * publish-ahead), or null. Refreshes, not logins: a login's per-account limit (10 a window) would
   * refuse polling that goes on for more than about a second.
   */
  private static String tokenSignedWith(JsonObject signUp, String kid) throws InterruptedException {
    JsonObject tokens = signUp.getJsonObject("tokens");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      Http.Response r = http.post("/v1/auth/token", null, new JsonObject().put("grant_type", "refresh_token")
          .put("refresh_token", tokens.getString("refresh_token")));
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      // the next refresh presents the token this one returned (each is single use)
      tokens.put("refresh_token", r.json().getString("refresh_token"));
      String token = r.json().getString("access_token");
      if (segment(token, 0).getString("kid").equals(kid)) {
        return token;
      }
      Thread.sleep(100);
    }
    return null;
  }

  private static JWTOptions options(String kid, String audience, int ttl) {
    return new JWTOptions().setAlgorithm("ES256").setIssuer("pingvas-user-service").setAudience(List.of(audience))
        .setExpiresInSeconds(ttl).setHeader(new JsonObject().put("kid", kid));
  }

  /** A signer holding user-service's own private key for {@code kid}. */
  private static JWTAuth realSigner(String kid) {
    String sealedHex = users.query("SELECT encode(private_key, 'hex') FROM users.signing_keys WHERE kid = '"
        + kid + "'");
    byte[] pkcs8 = new KeyCipher(UserHarness.KEY_SECRET).decrypt(java.util.HexFormat.of().parseHex(sealedHex));
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256")
        .setId(kid).setBuffer(EcKeys.privatePem(pkcs8))));
  }

  private static Principal verify(String token) throws Exception {
    return verify(verifier, token);
  }

  private static Principal verify(JwtAuthenticator by, String token) throws Exception {
    return by.authenticate(token).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static boolean refused(String token) {
    return refused(verifier, token);
  }

  private static boolean refused(JwtAuthenticator by, String token) {
    try {
      verify(by, token);
      return false;
    } catch (Exception e) {
      return true;
    }
  }

  private static JsonObject segment(String token, int index) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[index]),
        StandardCharsets.UTF_8));
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}
