package ai.pingvas.users.store;

import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.domain.SigningKey;
import ai.pingvas.users.keys.EcKeys;
import ai.pingvas.users.keys.KeyCipher;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Signing keys in Postgres, private keys sealed with {@link KeyCipher}. */
public final class PgSigningKeyStore implements SigningKeyStore {
  private static final String LIST = "SELECT kid, public_jwk, private_key, signs_from FROM signing_keys";
  private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('pingvas.signing_keys'))";
  private static final String INSERT =
      "INSERT INTO signing_keys (kid, public_jwk, private_key, signs_from) VALUES ($1, $2, $3, $4)";
  private static final String DELETE = "DELETE FROM signing_keys WHERE kid = $1";
  /** Tells every replica (each LISTENs, see KeyRotationVerticle) that the ring changed; sent at commit. */
  private static final String NOTIFY = "SELECT pg_notify('" + CHANGES_CHANNEL + "', $1)";

  private final Pool pool;
  private final KeyCipher cipher;
  private final Clock clock;

  public PgSigningKeyStore(Pool pool, KeyCipher cipher, Clock clock) {
    this.pool = pool;
    this.cipher = cipher;
    this.clock = clock;
  }

  @Override
  public Future<List<SigningKey>> list() {
    return pool.query(LIST).execute().map(this::toKeys);
  }

  @Override
  public Future<String> rotate(KeyPolicy policy, boolean force) {
    return pool.withTransaction(conn -> lockedKeys(conn).compose(keys -> {
      Instant now = clock.instant();
      if (!force && !policy.rotationDue(keys, now)) {
        return Future.succeededFuture((String) null);
      }
      return insert(conn, policy.signsFrom(keys, now));
    }));
  }

  @Override
  public Future<Retirement> retire(KeyPolicy policy, String kid) {
    // under the rotation's lock: a rotation cannot make the key the signer between the check and the delete
    return pool.withTransaction(conn -> lockedKeys(conn).compose(keys -> {
      if (keys.stream().noneMatch(k -> k.kid().equals(kid))) {
        return Future.succeededFuture(Retirement.UNKNOWN);
      }
      if (policy.signer(keys, clock.instant()).map(k -> k.kid().equals(kid)).orElse(false)) {
        return Future.succeededFuture(Retirement.SIGNING);
      }
      return conn.preparedQuery(DELETE).execute(Tuple.of(kid))
          .compose(v -> conn.preparedQuery(NOTIFY).execute(Tuple.of("retired " + kid)))
          .map(v -> Retirement.RETIRED);
    }));
  }

  /** Every key, read under the ring's advisory lock (held to the end of {@code conn}'s transaction). */
  private Future<List<SigningKey>> lockedKeys(SqlConnection conn) {
    return conn.query(LOCK).execute().compose(v -> conn.query(LIST).execute()).map(this::toKeys);
  }

  private List<SigningKey> toKeys(RowSet<Row> rows) {
    List<SigningKey> keys = new ArrayList<>();
    rows.forEach(row -> keys.add(toKey(row)));
    return keys;
  }

  private Future<String> insert(SqlConnection conn, Instant signsFrom) {
    KeyPair pair = EcKeys.generate();
    String kid = "k-" + UUID.randomUUID().toString().substring(0, 13);
    JsonObject jwk = EcKeys.publicJwk((ECPublicKey) pair.getPublic(), kid);
    byte[] sealed = cipher.encrypt(pair.getPrivate().getEncoded());
    return conn.preparedQuery(INSERT)
        .execute(Tuple.of(kid, jwk, Buffer.buffer(sealed), signsFrom.atOffset(ZoneOffset.UTC)))
        .compose(v -> conn.preparedQuery(NOTIFY).execute(Tuple.of("created " + kid)))
        .map(v -> kid);
  }

  private SigningKey toKey(Row row) {
    Object jwk = row.getValue("public_jwk");
    JsonObject publicJwk = jwk instanceof JsonObject json ? json : new JsonObject(String.valueOf(jwk));
    return new SigningKey(row.getString("kid"), publicJwk, cipher.decrypt(row.getBuffer("private_key").getBytes()),
        row.getOffsetDateTime("signs_from").toInstant());
  }
}
