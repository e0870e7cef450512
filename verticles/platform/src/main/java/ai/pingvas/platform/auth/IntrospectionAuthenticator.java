package ai.pingvas.platform.auth;

import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Authenticates by asking the credential authority's introspection endpoint. An optional short
 * cache (TTL 0, the default, disables it) trades revocation latency for fewer calls; credentials
 * are cached by their SHA-256, never in clear.
 */
public final class IntrospectionAuthenticator implements Authenticator {
  private static final int MAX_CACHED = 10_000;

  private final WebClient client;
  private final String url;
  private final String internalToken;
  private final long ttlNanos;
  private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > MAX_CACHED;
    }
  };

  private record Cached(Principal principal, long expiresAt) {
  }

  public IntrospectionAuthenticator(Vertx vertx, String url, String internalToken, Duration ttl) {
    // every API-key request is one call here (no positive cache by default): keep enough connections
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000)
        .setIdleTimeout(30).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(32));
    this.url = url;
    this.internalToken = internalToken;
    this.ttlNanos = ttl.toNanos();
  }

  @Override
  public Future<Principal> authenticate(String credential) {
    String digest = sha256(credential);
    long now = System.nanoTime();
    synchronized (cache) {
      Cached hit = cache.get(digest);
      if (hit != null && hit.expiresAt - now > 0) {
        return Future.succeededFuture(hit.principal);
      }
    }
    return client.postAbs(url)
        .putHeader(InternalAuth.HEADER, internalToken == null ? "" : internalToken)
        .timeout(3_000)
        .sendJsonObject(new JsonObject().put("credential", credential))
        .recover(err -> Future.failedFuture(ApiException.unavailable("auth_unavailable",
            "cannot verify credentials right now", 2)))
        .compose(response -> {
          if (response.statusCode() == 200) {
            Principal principal = Principal.fromJson(response.bodyAsJsonObject());
            if (ttlNanos > 0) {
              synchronized (cache) {
                cache.put(digest, new Cached(principal, System.nanoTime() + ttlNanos));
              }
            }
            return Future.succeededFuture(principal);
          }
          if (response.statusCode() == 401 || response.statusCode() == 404) {
            return Future.failedFuture(ApiException.unauthorized("unknown, revoked or expired credential"));
          }
          return Future.failedFuture(ApiException.unavailable("auth_unavailable",
              "cannot verify credentials right now", 2));
        });
  }

  /** Drops a cached credential (revocation must take effect at once). */
  public void evict(String credential) {
    synchronized (cache) {
      cache.remove(sha256(credential));
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
