package ai.pingvas.generation.store;

import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The walking skeleton's users and API keys (user-service takes them over). Keys are random,
 * shown once, and stored as SHA-256 hashes; lookups are cached for a few seconds.
 */
public final class ApiKeys implements Authenticator {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final long CACHE_NANOS = 5_000_000_000L;
  private static final int CACHE_MAX = 10_000;

  private final Pool pool;
  private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_MAX;
    }
  };

  private record Cached(Principal principal, long expiresAt) {
  }

  public ApiKeys(Pool pool) {
    this.pool = pool;
  }

  /** A new key for an existing or new user; returns the key in clear (the only time it exists). */
  public Future<String> issue(String userId, String name, String tier, Set<String> roles, String fixedKey) {
    String key = fixedKey != null ? fixedKey : "pv_" + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(randomBytes(32));
    return pool.withTransaction(conn -> conn.preparedQuery("""
            INSERT INTO users (id, name, tier, roles) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier, roles = EXCLUDED.roles""")
        .execute(Tuple.of(UUID.fromString(userId), name, tier, roles.toArray(String[]::new)))
        .compose(v -> conn.preparedQuery("""
                INSERT INTO api_keys (id, user_id, key_hash, prefix) VALUES ($1, $2, $3, $4)
                ON CONFLICT (key_hash) DO NOTHING""")
            .execute(Tuple.of(UUID.randomUUID(), UUID.fromString(userId), Buffer.buffer(hash(key)),
                key.substring(0, Math.min(10, key.length()))))))
        .map(v -> key);
  }

  @Override
  public Future<Principal> authenticate(String credential) {
    String digest = Base64.getEncoder().encodeToString(hash(credential));
    long now = System.nanoTime();
    synchronized (cache) {
      Cached hit = cache.get(digest);
      if (hit != null && hit.expiresAt - now > 0) {
        return Future.succeededFuture(hit.principal);
      }
    }
    return pool.preparedQuery("""
            SELECT u.id, u.tier, u.roles FROM api_keys k JOIN users u ON u.id = k.user_id
            WHERE k.key_hash = $1 AND k.revoked_at IS NULL""")
        .execute(Tuple.of(Buffer.buffer(hash(credential))))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiException.unauthorized("unknown or revoked API key"));
          }
          Row row = rows.iterator().next();
          String[] roles = row.getArrayOfStrings("roles");
          Principal principal = new Principal(row.getUUID("id").toString(), row.getString("tier"),
              roles == null ? Set.of() : Set.of(roles), "api_key");
          synchronized (cache) {
            cache.put(digest, new Cached(principal, System.nanoTime() + CACHE_NANOS));
          }
          return Future.succeededFuture(principal);
        });
  }

  static byte[] hash(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
