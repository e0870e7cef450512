package ai.pingvas.platform.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Token verification rules, with keys made here and a JWK Set served from memory (no network). */
class JwtAuthenticatorTest {
  private static final String ISSUER = "pingvas-user-service";
  private static final String AUDIENCE = "pingvas-api";
  private static Vertx vertx;

  private final List<JsonObject> published = new ArrayList<>();
  private final AtomicInteger fetches = new AtomicInteger();
  private final JwtAuthenticator authenticator = new JwtAuthenticator(vertx, () -> {
    fetches.incrementAndGet();
    return Future.succeededFuture(List.copyOf(published));
  }, ISSUER, AUDIENCE, Duration.ofMinutes(5));

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  @Test
  void acceptsAValidTokenAndReadsTheClaims() throws Exception {
    Key key = key("k1");
    published.add(key.jwk());
    Principal principal = await(authenticator.authenticate(key.sign(claims("u-1"), AUDIENCE, 60)));
    assertThat(principal.userId()).isEqualTo("u-1");
    assertThat(principal.tier()).isEqualTo("pro");
    assertThat(principal.roles()).containsExactly("admin");
    assertThat(principal.method()).isEqualTo("jwt");
  }

  @Test
  void refusesATokenSignedByAnotherKeyUnderAKnownKid() throws Exception {
    Key real = key("k1");
    Key forger = key("k1");
    published.add(real.jwk());
    assertRefused(forger.sign(claims("u-1"), AUDIENCE, 60));
  }

  @Test
  void refusesAnExpiredToken() throws Exception {
    Key key = key("k1");
    published.add(key.jwk());
    JsonObject claims = claims("u-1");
    String token = key.signRaw(claims.put("iss", ISSUER).put("aud", AUDIENCE)
        .put("iat", now() - 3600).put("exp", now() - 600));
    assertRefused(token);
  }

  @Test
  void refusesATokenForAnotherAudience() throws Exception {
    Key key = key("k1");
    published.add(key.jwk());
    assertRefused(key.sign(claims("u-1"), "another-api", 60));
  }

  @Test
  void refusesAlgNoneAndHmacTokens() throws Exception {
    Key key = key("k1");
    published.add(key.jwk());
    String claims = b64(claims("u-1").put("iss", ISSUER).put("aud", AUDIENCE).put("exp", now() + 60).encode());
    assertRefused(b64("{\"alg\":\"none\",\"kid\":\"k1\",\"typ\":\"JWT\"}") + "." + claims + ".");
    assertRefused(b64("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}") + "." + claims + ".c2lnbmF0dXJl");
  }

  @Test
  void refetchesTheKeySetWhenATokenNamesANewKid() throws Exception {
    Key first = key("k1");
    published.add(first.jwk());
    await(authenticator.authenticate(first.sign(claims("u-1"), AUDIENCE, 60)));
    Key rotated = key("k2");
    published.add(rotated.jwk());
    Thread.sleep(1_100); // past the one-refetch-per-second brake
    assertThat(await(authenticator.authenticate(rotated.sign(claims("u-2"), AUDIENCE, 60))).userId()).isEqualTo("u-2");
    assertThat(fetches.get()).isEqualTo(2);
    // known kids are served from the cache
    await(authenticator.authenticate(first.sign(claims("u-1"), AUDIENCE, 60)));
    assertThat(fetches.get()).isEqualTo(2);
  }

  @Test
  void checksEachTokenOnceUntilItsKeyLeavesTheKeySet() throws Exception {
    Key first = key("k1");
    published.add(first.jwk());
    String token = first.sign(claims("u-1"), AUDIENCE, 60);
    assertThat(await(authenticator.authenticate(token)).userId()).isEqualTo("u-1");
    assertThat(await(authenticator.authenticate(token)).userId()).isEqualTo("u-1");
    assertThat(authenticator.signatureChecks()).as("the second call is answered from memory").isEqualTo(1);
    await(authenticator.authenticate(first.sign(claims("u-2"), AUDIENCE, 60)));
    assertThat(authenticator.signatureChecks()).as("another token is checked").isEqualTo(2);

    // The key is retired: a remembered token must die with it once the key set is refetched.
    published.clear();
    Key rotated = key("k2");
    published.add(rotated.jwk());
    Thread.sleep(1_100); // past the one-refetch-per-second brake
    await(authenticator.authenticate(rotated.sign(claims("u-3"), AUDIENCE, 60)));
    assertRefused(token);
  }

  @Test
  void tellsJwtsFromApiKeys() {
    assertThat(ChainAuthenticator.looksLikeJwt("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln")).isTrue();
    assertThat(ChainAuthenticator.looksLikeJwt("pv_abcdef.ghi")).isFalse();
    assertThat(ChainAuthenticator.looksLikeJwt("eyJonly.one")).isFalse();
  }

  private void assertRefused(String token) throws Exception {
    try {
      await(authenticator.authenticate(token));
      throw new AssertionError("token was accepted: " + token);
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ApiException.class);
      assertThat(((ApiException) e.getCause()).status()).isEqualTo(401);
    }
  }

  private static JsonObject claims(String subject) {
    return new JsonObject().put("sub", subject).put("tier", "pro").put("roles", new JsonArray().add("admin"));
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  /** An ES256 key with its kid. */
  private record Key(String kid, KeyPair pair) {
    JsonObject jwk() {
      ECPublicKey pub = (ECPublicKey) pair.getPublic();
      return new JsonObject().put("kty", "EC").put("crv", "P-256").put("alg", "ES256").put("use", "sig")
          .put("kid", kid).put("x", coordinate(pub.getW().getAffineX())).put("y", coordinate(pub.getW().getAffineY()));
    }

    JWTAuth signer() {
      String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(pair.getPrivate()
          .getEncoded()) + "\n-----END PRIVATE KEY-----\n";
      return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256")
          .setId(kid).setBuffer(pem)));
    }

    String sign(JsonObject claims, String audience, int ttlSeconds) {
      return signer().generateToken(claims.copy(), new JWTOptions().setAlgorithm("ES256").setIssuer(ISSUER)
          .setAudience(List.of(audience)).setExpiresInSeconds(ttlSeconds)
          .setHeader(new JsonObject().put("kid", kid)));
    }

    String signRaw(JsonObject claims) {
      return signer().generateToken(claims.copy(), new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true)
          .setHeader(new JsonObject().put("kid", kid)));
    }
  }

  private static Key key(String kid) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return new Key(kid, generator.generateKeyPair());
  }

  private static String coordinate(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] fixed = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, fixed, 32 - copy, copy);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(fixed);
  }
}
