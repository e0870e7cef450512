package ai.pingvas.users.store;

import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.db.AdvisoryLock;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.users.domain.ApiKey;
import ai.pingvas.users.domain.User;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/** {@link UserStore} on Postgres: every statement of the service's account tables is here. */
public final class PgUserStore implements UserStore {
  private static final String USER_COLUMNS = "id, email, name, password_hash, tier, roles, created_at";
  private static final String INSERT_USER = "INSERT INTO users (id, email, name, password_hash) "
      + "VALUES ($1, $2, $3, $4) RETURNING " + USER_COLUMNS;
  private static final String BY_EMAIL = "SELECT " + USER_COLUMNS + " FROM users WHERE lower(email) = lower($1)";
  private static final String BY_ID = "SELECT " + USER_COLUMNS + " FROM users WHERE id = $1";
  private static final String UPDATE = "UPDATE users SET tier = coalesce($2, tier), roles = coalesce($3, roles), "
      + "updated_at = now() WHERE id = $1 RETURNING " + USER_COLUMNS;
  private static final String SEED = """
      INSERT INTO users (id, email, name, tier, roles) VALUES ($1, $2, 'dev', $3, $4)
      ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier, roles = EXCLUDED.roles, updated_at = now()
      RETURNING """ + " " + USER_COLUMNS;
  private static final String KEY_COLUMNS = "id, user_id, name, prefix, created_at, last_used_at, revoked_at";
  // At most $6 active keys per account: the owner's row is locked, so creations of one account queue
  // up (each statement counts with the snapshot it started with: a burst of concurrent ones can end a
  // few over, never without bound).
  private static final String INSERT_KEY = """
      WITH owner AS (SELECT id FROM users WHERE id = $2 FOR UPDATE)
      INSERT INTO api_keys (id, user_id, name, key_hash, prefix)
      SELECT $1, owner.id, $3, $4, $5 FROM owner
      WHERE (SELECT count(*) FROM api_keys WHERE user_id = $2 AND revoked_at IS NULL) < $6
      RETURNING """ + " " + KEY_COLUMNS;
  private static final String ENSURE_KEY = "INSERT INTO api_keys (id, user_id, name, key_hash, prefix) "
      + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_hash) DO NOTHING";
  // active keys first (at most MAX_ACTIVE_KEYS), then the most recent revoked ones: a bounded list
  private static final String LIST_KEYS = "SELECT " + KEY_COLUMNS + " FROM api_keys WHERE user_id = $1 "
      + "ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC LIMIT " + LIST_LIMIT;
  private static final String REVOKE_KEY = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
      + "WHERE id = $1 AND user_id = $2";
  // last_used_at is written at most once a minute per key, so a hot key costs no write per request.
  private static final String PRINCIPAL_FOR_KEY = """
      WITH k AS (SELECT id, user_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
      touched AS (UPDATE api_keys a SET last_used_at = now() FROM k WHERE a.id = k.id
                  AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute'))
      SELECT u.id, u.tier, u.roles FROM k JOIN users u ON u.id = k.user_id""";
  private static final String INSERT_REFRESH = "INSERT INTO refresh_tokens (id, user_id, family, token_hash, "
      + "expires_at) VALUES ($1, $2, $3, $4, $5)";
  private static final String FAMILY_OF = "SELECT family FROM refresh_tokens WHERE token_hash = $1";
  private static final String LOCK_REFRESH = "SELECT user_id, family, expires_at, used_at, revoked_at "
      + "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE";
  private static final String USE_REFRESH = "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1";
  private static final String REVOKE_FAMILY = "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) "
      + "WHERE family = $1";

  private final Pool pool;

  public PgUserStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Granted> create(String email, String name, String passwordHash, RefreshGrant first,
      Function<User, String> accessToken) {
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT_USER)
            .execute(Tuple.of(UUID.randomUUID(), email, name, passwordHash))
            .compose(rows -> grant(conn, toUser(rows.iterator().next()), first, accessToken)))
        .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(ApiException.conflict("email_taken", "an account with this e-mail exists"))
            : Future.failedFuture(err));
  }

  /** Signs the access token (within the transaction: if it throws, the transaction rolls back), then stores the refresh token. */
  private static Future<Granted> grant(SqlConnection conn, User user, RefreshGrant refresh,
      Function<User, String> accessToken) {
    String access;
    try {
      access = accessToken.apply(user);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return conn.preparedQuery(INSERT_REFRESH).execute(refreshRow(user.id(), refresh))
        .map(v -> new Granted(user, access));
  }

  private static Tuple refreshRow(String userId, RefreshGrant grant) {
    return Tuple.of(UUID.randomUUID(), UUID.fromString(userId), UUID.fromString(grant.family()),
        Buffer.buffer(grant.hash()), grant.expiresAt().atOffset(ZoneOffset.UTC));
  }

  @Override
  public Future<User> byEmail(String email) {
    return pool.preparedQuery(BY_EMAIL).execute(Tuple.of(email)).map(PgUserStore::firstUser);
  }

  @Override
  public Future<User> byId(String id) {
    return pool.preparedQuery(BY_ID).execute(Tuple.of(UUID.fromString(id))).map(PgUserStore::firstUser);
  }

  @Override
  public Future<User> update(String id, String tier, Set<String> roles) {
    return pool.preparedQuery(UPDATE).execute(Tuple.of(UUID.fromString(id), tier,
        roles == null ? null : roles.toArray(String[]::new))).map(PgUserStore::firstUser);
  }

  @Override
  public Future<User> seed(String id, String email, String tier, Set<String> roles) {
    return pool.preparedQuery(SEED).execute(Tuple.of(UUID.fromString(id), email, tier, roles.toArray(String[]::new)))
        .map(PgUserStore::firstUser);
  }

  @Override
  public Future<ApiKey> createApiKey(String userId, String name, byte[] keyHash, String prefix) {
    return pool.preparedQuery(INSERT_KEY).execute(Tuple.of(UUID.randomUUID(), UUID.fromString(userId), name,
        Buffer.buffer(keyHash), prefix, MAX_ACTIVE_KEYS))
        .map(rows -> rows.size() == 0 ? null : toKey(rows.iterator().next()));
  }

  @Override
  public Future<Void> ensureApiKey(String userId, String name, byte[] keyHash, String prefix) {
    return pool.preparedQuery(ENSURE_KEY).execute(Tuple.of(UUID.randomUUID(), UUID.fromString(userId), name,
        Buffer.buffer(keyHash), prefix)).mapEmpty();
  }

  @Override
  public Future<List<ApiKey>> apiKeys(String userId) {
    return pool.preparedQuery(LIST_KEYS).execute(Tuple.of(UUID.fromString(userId))).map(rows -> {
      List<ApiKey> keys = new ArrayList<>();
      rows.forEach(row -> keys.add(toKey(row)));
      return keys;
    });
  }

  @Override
  public Future<Boolean> revokeApiKey(String userId, String keyId) {
    return pool.preparedQuery(REVOKE_KEY).execute(Tuple.of(UUID.fromString(keyId), UUID.fromString(userId)))
        .map(rows -> rows.rowCount() == 1);
  }

  @Override
  public Future<Principal> principalForApiKey(byte[] keyHash) {
    return pool.preparedQuery(PRINCIPAL_FOR_KEY).execute(Tuple.of(Buffer.buffer(keyHash))).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      String[] roles = row.getArrayOfStrings("roles");
      return new Principal(row.getUUID("id").toString(), row.getString("tier"),
          roles == null ? Set.of() : Set.of(roles), "api_key");
    });
  }

  @Override
  public Future<Void> saveRefreshToken(String userId, RefreshGrant grant) {
    return pool.preparedQuery(INSERT_REFRESH).execute(refreshRow(userId, grant)).mapEmpty();
  }

  @Override
  public Future<Granted> rotateRefreshToken(byte[] presented, byte[] nextHash, Instant nextExpiresAt,
      Function<User, String> accessToken) {
    Tuple hash = Tuple.of(Buffer.buffer(presented));
    return pool.withTransaction(conn -> lockFamily(conn, hash).compose(family -> family == null
        ? Future.succeededFuture(Granted.REFUSED)
        : conn.preparedQuery(LOCK_REFRESH).execute(hash).compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(Granted.REFUSED); // its account was deleted meanwhile
          }
          Row row = rows.iterator().next();
          if (row.getOffsetDateTime("used_at") != null || row.getOffsetDateTime("revoked_at") != null) {
            return conn.preparedQuery(REVOKE_FAMILY).execute(Tuple.of(family)).map(v -> Granted.REFUSED);
          }
          if (row.getOffsetDateTime("expires_at").isBefore(OffsetDateTime.now())) {
            return Future.succeededFuture(Granted.REFUSED);
          }
          return conn.preparedQuery(USE_REFRESH).execute(hash)
              .compose(v -> conn.preparedQuery(BY_ID).execute(Tuple.of(row.getUUID("user_id"))))
              .compose(users -> users.size() == 0 ? Future.succeededFuture(Granted.REFUSED)
                  : grant(conn, toUser(users.iterator().next()),
                      new RefreshGrant(nextHash, family.toString(), nextExpiresAt), accessToken));
        })));
  }

  @Override
  public Future<Void> revokeRefreshFamily(byte[] tokenHash) {
    return pool.withTransaction(conn -> lockFamily(conn, Tuple.of(Buffer.buffer(tokenHash)))
        .compose(family -> family == null ? Future.succeededFuture()
            : conn.preparedQuery(REVOKE_FAMILY).execute(Tuple.of(family)).mapEmpty()));
  }

  /** The family of a token, locked until the transaction ends (see {@link AdvisoryLock}); null for an unknown token. */
  private static Future<UUID> lockFamily(SqlConnection conn, Tuple tokenHash) {
    return conn.preparedQuery(FAMILY_OF).execute(tokenHash).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(null);
      }
      UUID family = rows.iterator().next().getUUID("family");
      // held to commit by every write that adds a token to the family or revokes it, so a revocation
      // reaches a token that a racing rotation added
      return AdvisoryLock.untilCommit(conn, "refresh-family:" + family).map(v -> family);
    });
  }

  private static User firstUser(RowSet<Row> rows) {
    return rows.size() == 0 ? null : toUser(rows.iterator().next());
  }

  private static User toUser(Row row) {
    String[] roles = row.getArrayOfStrings("roles");
    return new User(row.getUUID("id").toString(), row.getString("email"), row.getString("name"),
        row.getString("password_hash"), row.getString("tier"), roles == null ? Set.of() : Set.of(roles),
        row.getOffsetDateTime("created_at").toInstant());
  }

  private static ApiKey toKey(Row row) {
    return new ApiKey(row.getUUID("id").toString(), row.getUUID("user_id").toString(), row.getString("name"),
        row.getString("prefix"), row.getOffsetDateTime("created_at").toInstant(),
        instant(row.getOffsetDateTime("last_used_at")), instant(row.getOffsetDateTime("revoked_at")));
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
