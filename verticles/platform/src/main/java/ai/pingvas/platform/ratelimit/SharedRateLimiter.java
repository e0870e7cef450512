package ai.pingvas.platform.ratelimit;

import ai.pingvas.platform.async.PeriodicVerticle;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests per window per key (a user, an account), counted across all replicas of a service.
 * Each replica counts what it admits and, every sync, adds its new counts to its own rows of the
 * service's {@code rate_usage} table (key, window start, replica) and reads the other replicas'
 * counts of the keys it has seen lately. A key's use of the last window is the sliding-window
 * estimate {@code previous × (1 − elapsed/window) + current}, over every replica.
 *
 * <p>Decisions are made from memory; only the first request of a key this replica does not know
 * (or has forgotten) waits for one lookup of the other replicas' counts. So another replica's
 * admissions count from the next sync: a burst spread over replicas can pass the limit by what
 * they admit in one sync interval. With Postgres unreachable each replica goes on with what it
 * knows (at worst N times the limit, as with per-replica buckets); unsynced counts are kept and
 * sent once it is back.
 */
public final class SharedRateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(SharedRateLimiter.class);
  private static final String ADD = """
      INSERT INTO rate_usage (key, window_start, replica, used)
      SELECT k, w, $3, u FROM unnest($1::text[], $2::bigint[], $4::int[]) AS t(k, w, u)
      ON CONFLICT (key, window_start, replica) DO UPDATE SET used = rate_usage.used + excluded.used""";
  private static final String OTHERS = """
      SELECT key, window_start, sum(used)::int AS used FROM rate_usage
      WHERE key = ANY($1::text[]) AND window_start >= $2 AND replica <> $3
      GROUP BY key, window_start""";
  private static final String FORGET = "DELETE FROM rate_usage WHERE window_start < $1 AND starts_with(key, $2)";

  private final Pool pool;
  /** Prefixes this limiter's keys in the shared table ("scope:key"): limiters of other windows share it. */
  private final String scope;
  private final String replica;
  private final long windowMs;
  private final int maxKeys;
  private final LongSupplier clock;
  /** Per key, least recently used first (forgetting one only ever lets it start afresh). */
  private final Map<String, Usage> usage;
  /** Admissions not yet written, by key and window. */
  private Map<PendingKey, Integer> pending = new HashMap<>();
  private long lastForgetMs;
  private long lastWarnMs;

  /** The outcome of one request. */
  public record Decision(boolean allowed, long retryAfterSeconds) {
  }

  private record PendingKey(String key, long windowStart) {
  }

  private static final class Usage {
    long windowStart;
    int localCurrent;
    int localPrevious;
    int othersCurrent;
    int othersPrevious;
    long lastUsedMs;
  }

  /** {@code scope} names what is limited (its keys' prefix in the table); {@code replica} this process. */
  public SharedRateLimiter(Pool pool, String scope, String replica, Duration window, int maxKeys) {
    this(pool, scope, replica, window, maxKeys, System::currentTimeMillis);
  }

  SharedRateLimiter(Pool pool, String scope, String replica, Duration window, int maxKeys, LongSupplier clock) {
    this.pool = pool;
    this.scope = scope + ":";
    this.replica = replica;
    this.windowMs = window.toMillis();
    this.maxKeys = maxKeys;
    this.clock = clock;
    this.usage = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Usage> eldest) {
        return size() > SharedRateLimiter.this.maxKeys;
      }
    };
  }

  /**
   * Admits one request of {@code key} if its use over the last window, on every replica, stays
   * within {@code limit}. A key not known here is looked up first (the other replicas' counts);
   * if that fails the decision is made on this replica's counts.
   */
  public Future<Decision> acquire(String name, long limit) {
    String key = scope + name;
    synchronized (this) {
      if (pool == null || usage.containsKey(key)) {
        return Future.succeededFuture(tryAcquire(key, limit));
      }
    }
    return readOthers(List.of(key), windowStart(clock.getAsLong()) - windowMs, true)
        .otherwiseEmpty()
        .map(v -> tryAcquire(key, limit));
  }

  /** The decision on what this replica knows now (no lookup). */
  synchronized Decision tryAcquire(String key, long limit) {
    long now = clock.getAsLong();
    long windowStart = windowStart(now);
    Usage u = usage.computeIfAbsent(key, k -> new Usage());
    roll(u, windowStart);
    u.lastUsedMs = now;
    double elapsed = (double) (now - windowStart) / windowMs;
    int current = u.localCurrent + u.othersCurrent;
    int previous = u.localPrevious + u.othersPrevious;
    if (previous * (1 - elapsed) + current + 1 > limit) {
      return new Decision(false, retryAfterSeconds(now, windowStart, previous, current, limit));
    }
    u.localCurrent++;
    pending.merge(new PendingKey(key, windowStart), 1, Integer::sum);
    return new Decision(true, 0);
  }

  /** The start of the window {@code now} falls in. */
  private long windowStart(long now) {
    return now - Math.floorMod(now, windowMs);
  }

  /** Moves a key's counts to the window starting at {@code windowStart}. */
  private void roll(Usage u, long windowStart) {
    if (u.windowStart == windowStart) {
      return;
    }
    boolean next = windowStart - u.windowStart == windowMs;
    u.localPrevious = next ? u.localCurrent : 0;
    u.othersPrevious = next ? u.othersCurrent : 0;
    u.localCurrent = 0;
    u.othersCurrent = 0;
    u.windowStart = windowStart;
  }

  /** Seconds until one more request fits: the previous window's weight fades, then the current one's. */
  private long retryAfterSeconds(long now, long windowStart, int previous, int current, long limit) {
    double room = limit - 1 - current;
    long waitMs;
    if (room >= 0 && previous > 0) {
      // previous × (1 − (elapsed + t)/window) ≤ room
      waitMs = (long) (windowMs * (1 - room / previous)) - (now - windowStart);
    } else {
      // this window's count becomes the previous one's and must fade to limit − 1
      waitMs = windowStart + windowMs - now + (long) (windowMs * Math.max(0, 1 - (limit - 1.0) / current));
    }
    return Math.max(1, (waitMs + 999) / 1000);
  }

  /** A verticle that syncs the limiters every {@code interval}; they log their own failures (at most every 30 s). */
  public static PeriodicVerticle syncing(Duration interval, SharedRateLimiter... limiters) {
    return new PeriodicVerticle(interval, "syncing rate-limit counts") {
      @Override
      protected Future<?> runOnce() {
        List<Future<Void>> syncs = new ArrayList<>();
        for (SharedRateLimiter limiter : limiters) {
          syncs.add(limiter.sync().otherwiseEmpty());
        }
        return Future.join(syncs);
      }
    };
  }

  /**
   * Writes this replica's new counts and reads the others' for the keys it used within the last
   * two windows. Runs on one context at a time (a periodic task); a failed write keeps its counts
   * for the next sync.
   */
  public Future<Void> sync() {
    long now = clock.getAsLong();
    long since = windowStart(now) - windowMs;
    Map<PendingKey, Integer> toWrite;
    List<String> recent = new ArrayList<>();
    synchronized (this) {
      toWrite = pending;
      pending = new HashMap<>();
      for (Map.Entry<String, Usage> e : usage.entrySet()) {
        if (e.getValue().lastUsedMs >= since) {
          recent.add(e.getKey());
        }
      }
    }
    toWrite.keySet().removeIf(p -> p.windowStart() < since);
    Future<Void> written = toWrite.isEmpty() ? Future.succeededFuture() : write(toWrite).recover(err -> {
      synchronized (this) {
        toWrite.forEach((k, n) -> pending.merge(k, n, Integer::sum));
      }
      return Future.failedFuture(err);
    });
    return written.compose(v -> recent.isEmpty() ? Future.succeededFuture() : readOthers(recent, since, false))
        .compose(v -> forgetOld(now))
        .recover(err -> {
          // every interval while Postgres is away: one line per 30 s is enough to see it
          if (now - lastWarnMs >= 30_000) {
            lastWarnMs = now;
            int unsynced;
            synchronized (this) {
              unsynced = pending.size();
            }
            LOG.atWarn().addKeyValue("error", err.toString()).addKeyValue("unsynced_keys", unsynced)
                .log("cannot share rate-limit counts with the other replicas; this replica decides on its own counts "
                    + "until Postgres answers");
          }
          return Future.failedFuture(err);
        });
  }

  private Future<Void> write(Map<PendingKey, Integer> counts) {
    int n = counts.size();
    String[] keys = new String[n];
    Long[] windows = new Long[n];
    Integer[] used = new Integer[n];
    int i = 0;
    for (Map.Entry<PendingKey, Integer> e : counts.entrySet()) {
      keys[i] = e.getKey().key();
      windows[i] = e.getKey().windowStart();
      used[i] = e.getValue();
      i++;
    }
    // built one by one: Tuple.of(array, array) would spread the second array as varargs
    return pool.preparedQuery(ADD).execute(Tuple.tuple().addArrayOfString(keys).addArrayOfLong(windows)
        .addString(replica).addArrayOfInteger(used)).mapEmpty();
  }

  /**
   * Reads the other replicas' counts of {@code keys} in the windows from {@code since}: for the keys
   * known here, or also for new ones ({@code addMissing}: a key's first sight on this replica).
   */
  private Future<Void> readOthers(List<String> keys, long since, boolean addMissing) {
    return pool.preparedQuery(OTHERS).execute(Tuple.tuple().addArrayOfString(keys.toArray(new String[0]))
            .addLong(since).addString(replica))
        .map(rows -> {
          synchronized (this) {
            if (addMissing) {
              keys.forEach(key -> usage.computeIfAbsent(key, k -> new Usage()));
            }
            applyOthers(keys, rows, since + windowMs);
          }
          return null;
        });
  }

  /** Sets the other replicas' counts of {@code keys} (known here) from their rows. Holds the lock. */
  private void applyOthers(List<String> keys, RowSet<Row> rows, long currentStart) {
    Map<String, int[]> others = new HashMap<>();
    for (Row row : rows) {
      int[] counts = others.computeIfAbsent(row.getString("key"), k -> new int[2]);
      counts[row.getLong("window_start") == currentStart ? 0 : 1] += row.getInteger("used");
    }
    for (String key : keys) {
      Usage u = usage.get(key);
      if (u == null) {
        continue;
      }
      int[] counts = others.getOrDefault(key, new int[2]);
      if (u.windowStart > currentStart) {
        // a request since rolled the key into the next window: what was current is previous
        u.othersPrevious = u.windowStart - currentStart == windowMs ? counts[0] : 0;
        continue;
      }
      roll(u, currentStart);
      u.othersCurrent = counts[0];
      u.othersPrevious = counts[1];
    }
  }

  /** Once a window, any replica drops rows no estimate reads any more. */
  private Future<Void> forgetOld(long now) {
    if (now - lastForgetMs < windowMs) {
      return Future.succeededFuture();
    }
    lastForgetMs = now;
    return pool.preparedQuery(FORGET).execute(Tuple.of(windowStart(now) - 2 * windowMs, scope))
        .mapEmpty();
  }
}
