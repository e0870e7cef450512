package ai.pingvas.generation.events;

import ai.pingvas.generation.domain.JobEvent;
import ai.pingvas.platform.db.ConnectionWatch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.Json;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the outbox to Kafka in id order, then deletes what the broker acknowledged. One
 * replica relays at a time (a session advisory lock), which keeps each job's events in seq order.
 * While Kafka is down rows simply wait.
 *
 * <p>Wake-ups: the job store tells {@link #written()} after each statement that committed outbox
 * rows. On the relaying replica that pokes the relay in process; any other replica sends one
 * {@code NOTIFY pingvas_outbox} in a statement of its own (at most one in flight, coalescing the
 * commits meanwhile), which the relaying replica LISTENs to. A poll every 200 ms covers rows from
 * elsewhere. There is no NOTIFY trigger on the outbox: Postgres serialises the commits of
 * transactions that notify on one lock held through their commit's WAL flush, and with one on
 * every outbox insert no two job writes shared an fsync.
 */
public final class OutboxRelayVerticle extends VerticleBase {
  /** Record headers carrying the event's envelope (see {@link #headers}). */
  public static final String HEADER_TYPE = "type";
  public static final String HEADER_USER = "user_id";
  public static final String HEADER_SEQ = "seq";
  /**
   * On a {@code job.dispatched} of a job placed on a worker at admission: the job's {@code job.queued}
   * event (seq one less) as JSON text. Both were committed together, and publishing them as one record
   * saves a third of the events of most jobs (an outbox row, a record to produce, store and read on
   * every replica). Replicas expand it before a stream or a resume sees it.
   */
  public static final String HEADER_PRECEDED = "preceded_by";

  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelayVerticle.class);
  static final long LOCK_KEY = 0x70696e6776617301L;
  static final String CHANNEL = "pingvas_outbox";
  private static final int BATCH = 2000;
  /**
   * Event data read per batch, at most (as stored; the first row always goes): progress events carry
   * previews of up to 256 KiB, and after a Kafka outage 2,000 of them (~500 MB as strings, twice
   * that as records) would not fit the router's heap.
   */
  static final long BATCH_BYTES = 8L * 1024 * 1024;
  // (a running sum over the rows in id order, ~1 us per row more than the plain read, measured)
  static final String READ_BATCH = """
      SELECT id, job_id, user_id, seq, type, data::text AS data, preceded::text AS preceded, created_at, before, bytes
      FROM (SELECT h.*, sum(h.bytes) OVER (ORDER BY h.id ROWS UNBOUNDED PRECEDING) - h.bytes AS before
            FROM (SELECT id, job_id, user_id, seq, type, data, preceded, created_at,
                         pg_column_size(data) + coalesce(pg_column_size(preceded), 0) AS bytes
                  FROM outbox ORDER BY id LIMIT $1) h) o
      WHERE before < $2
      ORDER BY id""";
  private static final long POLL_MS = 200;

  private final Pool pool;
  private final PgConnectOptions connectOptions;
  private final PgConnectOptions relayConnectOptions;
  private final ConnectionWatch watch;
  private final KafkaProducer<String, String> producer;
  private final String topic;
  private final Counter published;
  private final Timer lag;
  private final long pollMs;
  private final AtomicBoolean wakeScheduled = new AtomicBoolean();
  /** The verticle's context, published for {@link #written()}'s callers on other threads (null before start). */
  private volatile Context relayContext;
  private boolean notifying;
  private boolean notifyAgain;
  private SqlConnection lockConnection;
  private PgSubscriber subscriber;
  private boolean leader;
  private boolean running;
  private boolean again;
  private boolean stopped;
  private long timer;

  public OutboxRelayVerticle(Pool pool, PgConnectOptions connectOptions, ConnectionWatch watch,
      KafkaProducer<String, String> producer, String topic, MeterRegistry registry) {
    this(pool, connectOptions, watch, producer, topic, registry, POLL_MS);
  }

  /** With the fallback poll every {@code pollMs} (tests lengthen it to see that wake-ups alone relay). */
  OutboxRelayVerticle(Pool pool, PgConnectOptions connectOptions, ConnectionWatch watch,
      KafkaProducer<String, String> producer, String topic, MeterRegistry registry, long pollMs) {
    this.pollMs = pollMs;
    this.pool = pool;
    this.connectOptions = connectOptions;
    this.watch = watch;
    // The relay holds its lock, reads and deletes on a connection of its own. Its deletes need not
    // wait for their WAL flush: lost in a Postgres crash, their rows are published again, as after a
    // relay crash between send and delete (consumers take events at least once, by job and seq).
    // It also holds the relay's lock for its session: should this replica vanish without closing the
    // connection (node lost, partition), Postgres probes the link and ends the session, lock and all,
    // after ~25 s (10 s idle, 3 probes 5 s apart) rather than the OS default of over two hours.
    this.relayConnectOptions = new PgConnectOptions(connectOptions).addProperty("synchronous_commit", "off")
        .addProperty("tcp_keepalives_idle", "10").addProperty("tcp_keepalives_interval", "5")
        .addProperty("tcp_keepalives_count", "3");
    this.producer = producer;
    this.topic = topic;
    this.published = Counter.builder("pingvas_outbox_published_total")
        .description("job events relayed from the outbox to Kafka").register(registry);
    this.lag = Timer.builder("pingvas_outbox_lag_seconds")
        .description("time from an event's commit to its Kafka acknowledgement")
        .publishPercentileHistogram().register(registry);
  }

  @Override
  public Future<?> start() {
    subscriber = PgSubscriber.subscriber(vertx, connectOptions)
        .reconnectPolicy(retries -> 500L);
    subscriber.channel(CHANNEL).handler(payload -> poke());
    timer = vertx.setPeriodic(pollMs, id -> poke());
    subscriber.connect().onFailure(err -> LOG.warn("outbox LISTEN unavailable, polling only: {}", err.getMessage()));
    relayContext = context;
    return Future.succeededFuture();
  }

  /**
   * This replica committed outbox rows (from any thread, after the commit): relays them now if it
   * is the relaying replica, else tells that one. Coalesced: one task on the relay's context serves
   * every call made before it runs. Before the relay starts, its first poll finds them.
   */
  public void written() {
    Context relay = relayContext;
    if (relay != null && wakeScheduled.compareAndSet(false, true)) {
      relay.runOnContext(v -> {
        wakeScheduled.set(false);
        if (stopped) {
          return;
        }
        if (leader) {
          poke();
        } else {
          notifyRelay();
        }
      });
    }
  }

  /** NOTIFY in a statement of its own: no transaction id, so nothing is flushed while it holds the notify lock. */
  private void notifyRelay() {
    if (notifying) {
      notifyAgain = true;
      return;
    }
    notifying = true;
    pool.query("SELECT pg_notify('" + CHANNEL + "', '')").execute().onComplete(ar -> {
      notifying = false;
      if (ar.failed()) {
        LOG.debug("outbox NOTIFY failed (the relay's poll finds the rows): {}", ar.cause().toString());
      }
      if (notifyAgain) {
        notifyAgain = false;
        notifyRelay();
      }
    });
  }

  /** Relays now (coalesces concurrent wake-ups). */
  public void poke() {
    if (stopped) {
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = true;
    ensureLeader()
        .compose(isLeader -> isLeader ? relayBatch() : Future.succeededFuture(false))
        .onComplete(ar -> {
          running = false;
          if (ar.failed()) {
            LOG.atWarn().addKeyValue("error", ar.cause().toString()).log("outbox relay failed; will retry");
            dropLock();
          } else if (ar.result() || again) {
            again = false;
            vertx.runOnContext(v -> poke());
          }
        });
  }

  /** Whether this replica relays now (answered on the relay's context). */
  Future<Boolean> leads() {
    Promise<Boolean> answer = Promise.promise();
    context.runOnContext(v -> answer.complete(leader && lockConnection != null));
    return answer.future();
  }

  /** A setting of the relay's own connection as it runs (tests), or null while it has none. */
  Future<String> connectionSetting(String name) {
    Promise<String> answer = Promise.promise();
    context.runOnContext(v -> {
      SqlConnection c = lockConnection;
      if (c == null) {
        answer.complete(null);
      } else {
        c.query("SELECT current_setting('" + name.replaceAll("[^a-z_]", "") + "')").execute()
            .map(rows -> rows.iterator().next().getString(0)).onComplete(answer);
      }
    });
    return answer.future();
  }

  Future<Boolean> ensureLeader() {
    if (leader && lockConnection != null) {
      return Future.succeededFuture(true);
    }
    Future<SqlConnection> connection = lockConnection != null ? Future.succeededFuture(lockConnection)
        : PgConnection.connect(vertx, relayConnectOptions).map(SqlConnection.class::cast).onSuccess(c -> {
          // half-open, it would hold the relay (and the outbox) until the kernel gave up on it
          watch.install(c);
          lockConnection = c;
          c.closeHandler(v -> {
            // only if it is still the relay's: dropLock() closes a connection it has already let go,
            // and a newer one may hold the lock by then
            if (lockConnection == c) {
              lockConnection = null;
              leader = false;
            }
          });
        });
    return connection.compose(c -> c.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(LOCK_KEY))
        .map(rows -> {
          leader = rows.iterator().next().getBoolean(0);
          if (leader) {
            LOG.info("this replica now relays the outbox");
          }
          return leader;
        }));
  }

  /** Relays the oldest rows; true if more were waiting behind them (a full batch, by rows or by bytes). */
  private Future<Boolean> relayBatch() {
    SqlConnection c = lockConnection;
    if (c == null) {
      return Future.failedFuture(new IllegalStateException("the relay's connection closed"));
    }
    return c.preparedQuery(READ_BATCH)
        .execute(Tuple.of(BATCH, BATCH_BYTES))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          Row last = null;
          for (Row row : rows) {
            last = row;
          }
          // full by rows, or the budget is spent: the rows behind (if any) come in the next batch at once
          boolean more = rows.size() >= BATCH || last.getLong("before") + last.getLong("bytes") >= BATCH_BYTES;
          List<ProducerRecord<String, String>> records = new ArrayList<>(rows.size());
          Long[] ids = new Long[rows.size()];
          long[] committedMs = new long[rows.size()];
          int i = 0;
          for (Row row : rows) {
            ids[i] = row.getLong("id");
            Instant committed = row.getOffsetDateTime("created_at").toInstant();
            committedMs[i++] = committed.toEpochMilli();
            String jobId = row.getUUID("job_id").toString();
            String userId = row.getUUID("user_id").toString();
            String type = row.getString("type");
            int seq = row.getInteger("seq");
            records.add(record(topic, jobId, userId, type, seq, committed.toString(), row.getString("data"),
                row.getString("preceded")));
          }
          return sendAll(records)
              .compose(done -> c.preparedQuery("DELETE FROM outbox WHERE id = ANY($1)").execute(Tuple.of(ids)))
              .map(deleted -> {
                long now = System.currentTimeMillis();
                for (long t : committedMs) {
                  lag.record(Math.max(0, now - t), TimeUnit.MILLISECONDS);
                }
                published.increment(ids.length);
                return more;
              });
        });
  }

  /**
   * The event as published: the outbox row's data (a JSON object, as Postgres prints it) with the
   * envelope fields appended. Spliced as text rather than parsed and re-encoded, which took ~4 % of
   * the router's CPU under load; a data field of the same name as an envelope field is overridden
   * (the last of duplicate keys wins when the event is read), as it was when built as an object.
   */
  static String event(String data, String type, String jobId, String userId, int seq, String ts) {
    String object = data == null ? "{}" : data;
    int start = 0;
    int end = object.length();
    while (start < end && Character.isWhitespace(object.charAt(start))) {
      start++;
    }
    while (end > start && Character.isWhitespace(object.charAt(end - 1))) {
      end--;
    }
    if (end - start < 2 || object.charAt(start) != '{' || object.charAt(end - 1) != '}') {
      throw new IllegalArgumentException("outbox data is not a JSON object: " + object);
    }
    StringBuilder event = new StringBuilder(end - start + 180).append(object, start, end - 1);
    for (int i = start + 1; i < end - 1; i++) {
      if (!Character.isWhitespace(object.charAt(i))) {
        event.append(',');
        break;
      }
    }
    event.append("\"type\":");
    if (plain(type)) {
      event.append('"').append(type).append('"');
    } else {
      event.append(Json.encode(type));
    }
    return event.append(",\"job_id\":\"").append(jobId)
        .append("\",\"user_id\":\"").append(userId).append("\",\"seq\":").append(seq)
        .append(",\"ts\":\"").append(ts).append("\"}").toString();
  }

  /** A type JSON needs no escaping for (every type we write): quoted as is, without a JSON encoder per event. */
  private static boolean plain(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /**
   * The record of an outbox row: the event as its value, its envelope in headers, and the event it
   * was committed with, if any ({@code preceded}: that event's data; its seq is one less).
   */
  static ProducerRecord<String, String> record(String topic, String jobId, String userId, String type, int seq,
      String ts, String data, String preceded) {
    Headers headers = headers(type, userId, seq);
    if (preceded != null) {
      headers.add(HEADER_PRECEDED, event(preceded, JobEvent.QUEUED, jobId, userId, seq - 1, ts)
          .getBytes(StandardCharsets.UTF_8));
    }
    return new ProducerRecord<>(topic, null, jobId, event(data, type, jobId, userId, seq, ts), headers);
  }

  /**
   * The envelope fields a follower needs to route an event without parsing it (the job id is the
   * record key): most events are progress, which a replica only keeps for resumes unless the
   * job's owner streams from it.
   */
  static Headers headers(String type, String userId, int seq) {
    return new RecordHeaders(new Header[] {
        new RecordHeader(HEADER_TYPE, type.getBytes(StandardCharsets.UTF_8)),
        new RecordHeader(HEADER_USER, userId.getBytes(StandardCharsets.UTF_8)),
        new RecordHeader(HEADER_SEQ, Integer.toString(seq).getBytes(StandardCharsets.UTF_8))});
  }

  /**
   * Hands the whole batch to the producer in one blocking task (a send blocks while the broker's
   * metadata is unknown, so not on the event loop) instead of one task per record; completes on
   * this verticle's context once the broker acknowledged every record, or failed with the first
   * error. Records keep their order: one thread sends them, and the producer is idempotent.
   */
  private Future<Void> sendAll(List<ProducerRecord<String, String>> records) {
    Promise<Void> acked = Promise.promise();
    AtomicInteger left = new AtomicInteger(records.size());
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Callback callback = (metadata, err) -> {
      if (err != null) {
        failure.compareAndSet(null, err);
      }
      if (left.decrementAndGet() == 0) {
        context.runOnContext(v -> {
          if (failure.get() == null) {
            acked.complete();
          } else {
            acked.fail(failure.get());
          }
        });
      }
    };
    Producer<String, String> nativeProducer = producer.unwrap();
    vertx.executeBlocking(() -> {
      for (int i = 0; i < records.size(); i++) {
        try {
          nativeProducer.send(records.get(i), callback);
        } catch (RuntimeException e) {
          // not handed over (e.g. no metadata within max.block.ms): count it and the rest as failed
          for (int rest = i; rest < records.size(); rest++) {
            callback.onCompletion(null, e);
          }
          break;
        }
      }
      return null;
    }).onFailure(acked::tryFail);
    return acked.future();
  }

  /**
   * Gives the relay up (after a failure, or on stop). The lock's connection goes back to the pool,
   * whose session lives on, and with it a session-level advisory lock: unlock it first, or no
   * replica could take the relay over while this pool keeps that session (the outbox would stop
   * draining cluster-wide after one Kafka hiccup). A broken connection is dropped by the pool, which
   * ends its session and the lock with it.
   */
  Future<Void> dropLock() {
    if (lockConnection == null) {
      return Future.succeededFuture();
    }
    SqlConnection c = lockConnection;
    lockConnection = null;
    leader = false;
    return c.query("SELECT pg_advisory_unlock_all()").execute()
        .onFailure(err -> LOG.warn("could not release the relay lock (its session ends with the connection): {}",
            err.toString()))
        .transform(ar -> c.close());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    // let a batch in flight finish (sent and deleted) before giving up the lock: released earlier,
    // the next relaying replica would publish its rows again
    return settled(System.currentTimeMillis() + 5_000).compose(v -> dropLock()).compose(v -> subscriber.close());
  }

  private Future<Void> settled(long deadline) {
    if (!running || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    return vertx.timer(20).compose(v -> settled(deadline));
  }
}
