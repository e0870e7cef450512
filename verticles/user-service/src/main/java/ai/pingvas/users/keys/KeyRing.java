package ai.pingvas.users.keys;

import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.domain.SigningKey;
import ai.pingvas.users.domain.User;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signing keys this replica knows (re-read from Postgres by {@link KeyRotationVerticle}): signs
 * access tokens with the current key and publishes the JWK Set that every service verifies with.
 */
public final class KeyRing {
  private final Vertx vertx;
  private final KeyPolicy policy;
  private final String issuer;
  private final String audience;
  private final Duration accessTtl;
  private final Clock clock;
  private final Map<String, JWTAuth> signers = new ConcurrentHashMap<>();
  private volatile List<SigningKey> keys = List.of();

  public KeyRing(Vertx vertx, KeyPolicy policy, String issuer, String audience, Duration accessTtl, Clock clock) {
    this.vertx = vertx;
    this.policy = policy;
    this.issuer = issuer;
    this.audience = audience;
    this.accessTtl = accessTtl;
    this.clock = clock;
  }

  public void load(List<SigningKey> loaded) {
    keys = List.copyOf(loaded);
  }

  public List<SigningKey> keys() {
    return keys;
  }

  /** The public JWK Set document. */
  public JsonObject jwks() {
    return new JsonObject().put("keys", new JsonArray(publicKeys()));
  }

  /** The published public keys, as a {@link ai.pingvas.platform.auth.JwksSource} for this service's own checks. */
  public Future<List<JsonObject>> publishedKeys() {
    return Future.succeededFuture(publicKeys());
  }

  private List<JsonObject> publicKeys() {
    return policy.published(keys, clock.instant()).stream().map(SigningKey::publicJwk).toList();
  }

  /** A signed access token for the user: {@code sub}, {@code tier}, {@code roles}, {@code iss}, {@code aud}, {@code exp}. */
  public String issue(User user) {
    SigningKey key = policy.signer(keys, clock.instant())
        .orElseThrow(() -> new IllegalStateException("no signing key is active yet"));
    JWTAuth signer = signers.computeIfAbsent(key.kid(), kid -> JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setId(kid)
            .setBuffer(EcKeys.privatePem(key.privatePkcs8())))));
    JsonObject claims = new JsonObject().put("tier", user.tier())
        .put("roles", new JsonArray(user.roles().stream().sorted().toList()))
        .put("jti", UUID.randomUUID().toString());
    return signer.generateToken(claims, new JWTOptions().setAlgorithm("ES256").setSubject(user.id())
        .setIssuer(issuer).setAudience(List.of(audience)).setExpiresInSeconds((int) accessTtl.toSeconds())
        .setHeader(new JsonObject().put("kid", key.kid())));
  }

  public Duration accessTtl() {
    return accessTtl;
  }
}
