package ai.pingvas.platform.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A Postgres advisory lock named by text, held until the transaction on {@code conn} ends. Writes
 * that must not interleave for one thing (a user's subscriptions, a login's refresh tokens) take
 * the lock of its name first: each then runs after the one before committed, and a statement issued
 * after taking it sees what that one wrote (a statement's snapshot alone would miss rows committed
 * meanwhile). Name keys by kind, e.g. {@code "subscriptions:" + userId}; unrelated keys that hash
 * alike only wait for each other.
 */
public final class AdvisoryLock {
  private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))";

  private AdvisoryLock() {
  }

  /** Waits for and takes the lock named {@code key}, held to the end of the transaction. */
  public static Future<Void> untilCommit(SqlConnection conn, String key) {
    return conn.preparedQuery(LOCK).execute(Tuple.of(key)).mapEmpty();
  }
}
