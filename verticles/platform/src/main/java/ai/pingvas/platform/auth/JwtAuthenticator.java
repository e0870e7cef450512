package ai.pingvas.platform.auth;

import ai.pingvas.platform.async.SingleFlight;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies access tokens locally against the issuer's JWK Set: signature (ES256 only: {@code none}
 * and HMAC algorithms are refused before any key is looked at), expiry, issuer and audience. The
 * keys are cached; a token signed with a key id the cache does not know triggers one refetch (at
 * most one per second), which is how a rotated-in key is picked up without a restart.
 *
 * <p>An ES256 signature check costs about a millisecond of CPU on Java 17, and clients send the same
 * access token for its whole life, so tokens that passed are remembered (at most
 * {@value #MAX_REMEMBERED}, each until its {@code exp} and at most {@value #REMEMBER_SECONDS} s) and
 * answered without a second check, as long as the key that signed them is still in the key set.
 */
public final class JwtAuthenticator implements Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);
  private static final Set<String> ALGORITHMS = Set.of("ES256");
  private static final long MIN_REFETCH_NANOS = Duration.ofSeconds(1).toNanos();
  static final int MAX_REMEMBERED = 10_000;
  static final int REMEMBER_SECONDS = 60;

  private final Vertx vertx;
  private final JwksSource source;
  private final String issuer;
  private final String audience;
  private final long refreshNanos;
  private volatile Keys keys = new Keys(Set.of(), null, 0);
  private final SingleFlight<Keys> fetching = new SingleFlight<>();
  private final AtomicLong signatureChecks = new AtomicLong();
  private final Map<String, Verified> verified = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };

  private record Verified(Principal principal, String kid, long untilMillis) {
  }

  private record Keys(Set<String> kids, JWTAuth verifier, long fetchedAt) {
  }

  public JwtAuthenticator(Vertx vertx, JwksSource source, String issuer, String audience, Duration refresh) {
    this.vertx = vertx;
    this.source = source;
    this.issuer = issuer;
    this.audience = audience;
    this.refreshNanos = refresh.toNanos();
  }

  @Override
  public Future<Principal> authenticate(String token) {
    // Hot path first: a remembered token under a current key needs no decoding at all.
    Keys current = keys;
    boolean stale = System.nanoTime() - current.fetchedAt() > refreshNanos;
    Verified known = stale ? null : remembered(token);
    if (known != null && current.kids().contains(known.kid())) {
      return Future.succeededFuture(known.principal());
    }
    JsonObject header;
    try {
      header = segment(token, 0);
    } catch (RuntimeException e) {
      return refuse("malformed token");
    }
    String alg = header.getString("alg");
    String kid = header.getString("kid");
    if (alg == null || !ALGORITHMS.contains(alg)) {
      return refuse("token algorithm '" + alg + "' is not accepted");
    }
    if (kid == null) {
      return refuse("token has no key id");
    }
    Future<Keys> ready = current.kids().contains(kid) && !stale ? Future.succeededFuture(current) : refetch(current);
    return ready.compose(k -> k.kids().contains(kid) ? verify(k, token, kid)
        : refuse("token was signed with an unknown key"));
  }

  /** Signature checks done so far (tokens answered from memory do not count). */
  long signatureChecks() {
    return signatureChecks.get();
  }

  private Verified remembered(String token) {
    synchronized (verified) {
      Verified v = verified.get(token);
      if (v != null && v.untilMillis() <= System.currentTimeMillis()) {
        verified.remove(token);
        return null;
      }
      return v;
    }
  }

  private Future<Principal> verify(Keys k, String token, String kid) {
    signatureChecks.incrementAndGet();
    return k.verifier().authenticate(new TokenCredentials(token))
        .recover(err -> Future.failedFuture(ApiException.unauthorized("invalid or expired token")))
        .compose(user -> {
          JsonObject claims = segment(token, 1);
          // The provider checks these too; checked again here so a configuration slip cannot skip them.
          if (!issuer.equals(claims.getString("iss")) || !audiences(claims).contains(audience)) {
            return refuse("token is for another issuer or audience");
          }
          String subject = claims.getString("sub");
          if (subject == null) {
            return refuse("token has no subject");
          }
          JsonArray roles = claims.getJsonArray("roles", new JsonArray());
          Principal principal = new Principal(subject, claims.getString("tier", "free"),
              roles.stream().map(String::valueOf).collect(Collectors.toUnmodifiableSet()), "jwt");
          Long exp = claims.getLong("exp");
          if (exp != null) {
            long until = Math.min(exp * 1000, System.currentTimeMillis() + REMEMBER_SECONDS * 1000L);
            synchronized (verified) {
              verified.put(token, new Verified(principal, kid, until));
            }
          }
          return Future.succeededFuture(principal);
        });
  }

  /** Refetches the key set unless it was fetched less than a second ago; concurrent callers share one fetch. */
  private Future<Keys> refetch(Keys seen) {
    Future<Keys> joined = fetching.inProgress();
    if (joined != null) {
      return joined;
    }
    if (seen.verifier() != null && System.nanoTime() - seen.fetchedAt() < MIN_REFETCH_NANOS) {
      return Future.succeededFuture(seen);
    }
    return fetching.join(() -> source.keys().map(jwks -> {
      JWTOptions checks = new JWTOptions().setIssuer(issuer).setAudience(List.of(audience)).setLeeway(5);
      JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(checks);
      jwks.stream().filter(jwk -> ALGORITHMS.contains(jwk.getString("alg", "ES256"))).forEach(options::addJwk);
      Set<String> kids = jwks.stream().map(jwk -> jwk.getString("kid")).filter(java.util.Objects::nonNull)
          .collect(Collectors.toUnmodifiableSet());
      Keys fresh = new Keys(kids, JWTAuth.create(vertx, options), System.nanoTime());
      keys = fresh;
      return fresh;
    }).recover(err -> {
      LOG.warn("cannot fetch the token signing keys: {}", err.toString());
      return seen.verifier() != null ? Future.succeededFuture(seen)
          : Future.failedFuture(ApiException.unavailable("auth_unavailable", "cannot verify tokens right now", 2));
    }));
  }

  private static List<String> audiences(JsonObject claims) {
    Object aud = claims.getValue("aud");
    if (aud instanceof JsonArray array) {
      return array.stream().map(String::valueOf).toList();
    }
    return aud == null ? List.of() : List.of(String.valueOf(aud));
  }

  /** Decodes one base64url JSON segment of a compact JWT (0 = header, 1 = claims). */
  static JsonObject segment(String token, int index) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a compact JWS");
    }
    return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[index]), StandardCharsets.UTF_8));
  }

  private static <T> Future<T> refuse(String detail) {
    return Future.failedFuture(ApiException.unauthorized(detail));
  }
}
