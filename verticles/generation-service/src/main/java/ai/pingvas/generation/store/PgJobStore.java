package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.domain.JobStatus;
import ai.pingvas.generation.domain.QueuedJob;
import ai.pingvas.platform.db.PageCursor;
import ai.pingvas.platform.ids.Uuids;
import ai.pingvas.protocol.RunningJob;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link JobStore} on PostgreSQL: each state change and its outbox event in one statement. */
public final class PgJobStore implements JobStore {
  private static final Logger LOG = LoggerFactory.getLogger(PgJobStore.class);
  private static final String ACTIVE = "('dispatched', 'running')";

  /**
   * The condition "the job is active" on {@code jobs j} for statements that find jobs by id (see
   * {@link #statusIn}).
   */
  private static final String J_ACTIVE = statusIn("j", "dispatched", "running");
  private static final String JOBS_ACTIVE = statusIn("jobs", "dispatched", "running");
  private static final String J_QUEUED = statusIn("j", "queued");

  /**
   * The row's status is one of {@code statuses}, written as a CASE so that the planner cannot match it
   * to the predicate of a partial index on status ({@code jobs_active}, {@code jobs_queued}). For
   * statements that find jobs by id: with few jobs active among many finished, as under load, the
   * statistics put such an index at about a row, and Postgres scanned all of it to find a few ids,
   * the dead entries of every job finished since the last vacuum included, where the primary key
   * finds each at once (the benchmark's result updates read ~48 index entries and fetched ~15 rows of
   * other jobs per statement). JobLookupPlansIT holds the plans to the primary key.
   */
  private static String statusIn(String alias, String... statuses) {
    StringBuilder condition = new StringBuilder("(CASE ").append(alias).append(".status");
    for (String status : statuses) {
      condition.append(" WHEN '").append(status).append("' THEN true");
    }
    return condition.append(" ELSE false END)").toString();
  }

  /**
   * Every {@code jobs} column the store reads, by name. A statement that returns {@code *} changes its
   * result type when a later migration adds a column, and Postgres then fails it once on every
   * pooled connection that had it prepared ("cached plan must not change result type"): a rolling
   * deploy's migration would turn a batch of submissions into 503s per connection.
   */
  static final String COLUMNS = """
      id, user_id, tier, status, model, prompt, params, priority, idempotency_key, request_hash, attempt,
      max_attempts, worker_id, router_id, progress_step, progress_total, error_code, error_message, images,
      event_seq, created_at, queued_at, not_before, dispatched_at, started_at, finished_at""";

  /** {@link #COLUMNS} of the row alias {@code j}. */
  private static final String J_COLUMNS = COLUMNS.replaceAll("(\\w+)", "j.$1");

  /** The statement with {@code {columns}} and {@code {j.columns}} spelled out. */
  private static String named(String sql) {
    return sql.replace("{j.columns}", J_COLUMNS).replace("{columns}", COLUMNS);
  }

  /** The data of a {@code job.queued} event, enough for any replica to index the job. */
  private static final String QUEUED_DATA = """
      jsonb_build_object('status', 'queued', 'model', x.model, 'tier', x.tier, 'priority', x.priority,
        'steps', (x.params->>'steps')::int, 'count', (x.params->>'count')::int, 'loras', x.params->'loras',
        'attempt', x.attempt, 'queued_at', x.queued_at, 'not_before', x.not_before, 'created_at', x.created_at)""";

  /**
   * Stores submissions: queued, or dispatched straight away when the dispatcher placed them at
   * admission (worker and router set), with their {@code job.queued} event (seq 1) or, if placed, one
   * outbox row for both events: {@code job.dispatched} (seq 2) with its {@code job.queued} data in the
   * row's {@code preceded} column, which the relay publishes as one record (see {@link
   * ai.pingvas.generation.events.OutboxRelayVerticle#HEADER_PRECEDED}).
   */
  private static final String INSERT = named("""
      WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                             $8::text[], $9::bytea[], $10::int[], $11::text[], $12::text[], $13::int[])
          AS t(id, user_id, tier, model, prompt, params, priority, idem, hash, max_attempts, worker, router, steps)
      ), ins AS (
        INSERT INTO jobs (id, user_id, tier, status, model, prompt, params, priority, idempotency_key,
                          request_hash, max_attempts, event_seq, attempt, worker_id, router_id, dispatched_at,
                          progress_total)
        SELECT id, user_id, tier, CASE WHEN worker IS NULL THEN 'queued' ELSE 'dispatched' END, model, prompt,
               params::jsonb, priority, idem, hash, max_attempts, CASE WHEN worker IS NULL THEN 1 ELSE 2 END,
               CASE WHEN worker IS NULL THEN 0 ELSE 1 END, worker, CASE WHEN worker IS NULL THEN NULL ELSE router END,
               CASE WHEN worker IS NULL THEN NULL ELSE now() END,
               CASE WHEN worker IS NULL THEN 0 ELSE steps END
        FROM input
        ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING {columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data, preceded)
        SELECT q.id, q.user_id, CASE WHEN q.status = 'queued' THEN 1 ELSE 2 END,
          CASE WHEN q.status = 'queued' THEN 'job.queued' ELSE 'job.dispatched' END,
          CASE WHEN q.status = 'queued' THEN q.queued ELSE jsonb_build_object('status', 'dispatched',
            'attempt', q.dispatched_attempt, 'worker_id', q.worker_id, 'router_id', q.router_id, 'model', q.model,
            'tier', q.tier) END,
          CASE WHEN q.status = 'queued' THEN NULL ELSE q.queued END
        FROM (SELECT x.*, %s AS queued
              FROM (SELECT id, user_id, tier, status, model, priority, params, 0 AS attempt, attempt AS
                      dispatched_attempt, worker_id, router_id, queued_at, NULL::timestamptz AS not_before,
                      created_at FROM ins) x) q
        ORDER BY q.id
      )
      SELECT id, status, attempt, worker_id, router_id, progress_total, event_seq, created_at, queued_at FROM ins"""
      .formatted(QUEUED_DATA));

  private static final String CANCEL = """
      WITH cur AS (
        SELECT id, status AS previous FROM jobs WHERE id = $1 AND user_id = $2 FOR UPDATE
      ), upd AS (
        UPDATE jobs j SET status = 'canceled', finished_at = now(), event_seq = j.event_seq + 1
        FROM cur WHERE j.id = cur.id AND j.status IN ('queued', 'dispatched', 'running')
        RETURNING j.id, j.user_id, j.event_seq, j.attempt, j.worker_id, j.router_id, cur.previous
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT id, user_id, event_seq, 'job.canceled', jsonb_build_object('status', 'canceled',
          'attempt', attempt, 'previous_status', previous, 'worker_id', worker_id, 'router_id', router_id)
        FROM upd
      )
      SELECT (SELECT previous FROM cur) AS found, upd.* FROM (SELECT 1) AS one LEFT JOIN upd ON true""";

  static final String CLAIM = named("""
      WITH input AS (
        SELECT * FROM unnest($2::uuid[], $3::text[]) AS t(id, worker)
      ), upd AS (
        UPDATE jobs j SET status = 'dispatched', attempt = j.attempt + 1, worker_id = i.worker, router_id = $1,
          dispatched_at = now(), started_at = NULL, progress_step = 0,
          progress_total = (j.params->>'steps')::int, not_before = NULL, event_seq = j.event_seq + 1
        FROM input i WHERE j.id = i.id AND %s
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT id, user_id, event_seq, 'job.dispatched', jsonb_build_object('status', 'dispatched',
          'attempt', attempt, 'worker_id', worker_id, 'router_id', router_id, 'model', model, 'tier', tier)
        FROM upd
      )
      SELECT * FROM upd""".formatted(J_QUEUED));

  static final String PROGRESS = """
      WITH cur AS (
        SELECT id, status AS previous FROM jobs
        WHERE id = $1 AND attempt = $2 AND %s FOR UPDATE
      ), upd AS (
        UPDATE jobs j SET status = 'running',
          started_at = CASE WHEN cur.previous = 'dispatched' THEN now() ELSE j.started_at END,
          progress_step = $3, progress_total = $4, event_seq = j.event_seq + 1
        FROM cur WHERE j.id = cur.id
        RETURNING j.id, j.user_id, j.event_seq, j.attempt, j.started_at, cur.previous
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT id, user_id, event_seq,
          CASE WHEN previous = 'dispatched' THEN 'job.started' ELSE 'job.progress' END,
          jsonb_strip_nulls(jsonb_build_object('status', 'running', 'attempt', attempt,
            'progress', jsonb_build_object('step', $3::int, 'total', $4::int,
              'percent', CASE WHEN $4::int > 0 THEN round(100.0 * $3::int / $4::int, 1) ELSE 0 END),
            'preview', $5::text, 'started_at', started_at))
        FROM upd
      )
      SELECT * FROM upd""".formatted(JOBS_ACTIVE);

  static final String SUCCEED = named("""
      WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[]) AS t(id, attempt, images)
      ), upd AS (
        UPDATE jobs j SET status = 'succeeded', images = i.images::jsonb, finished_at = now(), error_code = NULL,
          error_message = NULL, progress_step = j.progress_total, event_seq = j.event_seq + 1
        FROM input i WHERE j.id = i.id AND j.attempt = i.attempt AND %s
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT id, user_id, event_seq, 'job.succeeded', jsonb_build_object('status', 'succeeded',
          'attempt', attempt, 'images', images, 'model', model, 'prompt', prompt, 'params', params,
          'tier', tier, 'worker_id', worker_id, 'created_at', created_at, 'started_at', started_at,
          'finished_at', finished_at)
        FROM upd
      )
      SELECT id, user_id, status, event_seq, attempt FROM upd""".formatted(J_ACTIVE));

  /**
   * Ends the attempts selected by {@code target} (a query yielding {@code id} and {@code requeue}):
   * re-queued with exponential backoff and jitter while attempts remain, else failed.
   * Parameters: $1 code, $2 message, $3 backoff base ms, $4 backoff max ms, then the target's.
   */
  private static final String END_ATTEMPTS = named("""
      WITH target AS (%s),
      upd AS (
        UPDATE jobs j SET
          status = CASE WHEN t.requeue THEN 'queued' ELSE 'failed' END,
          router_id = NULL,
          not_before = CASE WHEN t.requeue THEN now() + make_interval(secs =>
            least($4::bigint, $3::bigint * power(2, least(greatest(j.attempt - 1, 0), 40))) * (0.5 + random() / 2) / 1000.0)
            END,
          queued_at = CASE WHEN t.requeue THEN now() ELSE j.queued_at END,
          finished_at = CASE WHEN t.requeue THEN NULL ELSE now() END,
          error_code = $1, error_message = $2, progress_step = 0, event_seq = j.event_seq + 1
        FROM target t WHERE j.id = t.id AND %s
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT x.id, x.user_id, x.event_seq,
          CASE WHEN x.status = 'queued' THEN 'job.queued' ELSE 'job.failed' END,
          CASE WHEN x.status = 'queued'
            THEN %s || jsonb_build_object('retry', true, 'error', jsonb_build_object('code', $1::text, 'message', $2::text))
            ELSE jsonb_build_object('status', 'failed', 'attempt', x.attempt,
              'error', jsonb_build_object('code', $1::text, 'message', $2::text))
          END
        FROM upd x
      )
      SELECT * FROM upd""");

  private static final String FAIL_ONE_TARGET = """
      SELECT id, ($7::boolean AND attempt < max_attempts) AS requeue FROM jobs
      WHERE id = $5 AND attempt = $6 AND %s FOR UPDATE""".formatted(JOBS_ACTIVE);

  private static final String WORKER_TARGET = """
      SELECT id, attempt < max_attempts AS requeue FROM jobs
      WHERE router_id = $5 AND worker_id = $6 AND status IN ('dispatched', 'running') FOR UPDATE""";

  private static final String LAPSED_TARGET = """
      SELECT j.id, j.attempt < j.max_attempts AS requeue FROM jobs j JOIN routers r ON r.id = j.router_id
      WHERE j.status IN ('dispatched', 'running') AND r.lease_until < now() AND r.id <> $5
      ORDER BY j.id LIMIT 1000 FOR UPDATE OF j SKIP LOCKED""";

  private static final String OVERTIME_TARGET = """
      SELECT id, attempt < max_attempts AS requeue FROM jobs
      WHERE router_id = $5 AND status IN ('dispatched', 'running')
        AND dispatched_at < now() - make_interval(secs => $6::bigint / 1000.0)
      FOR UPDATE SKIP LOCKED""";

  /** {@link #END_ATTEMPTS} of one attempt ({@link #failAttempt}); parameters then $5 id, $6 attempt, $7 retryable. */
  static final String FAIL_ONE = END_ATTEMPTS.formatted(FAIL_ONE_TARGET, J_ACTIVE, QUEUED_DATA);
  /** ... of a worker's attempts on this router ($5 router, $6 worker). */
  private static final String RELEASE_WORKER = END_ATTEMPTS.formatted(WORKER_TARGET, J_ACTIVE, QUEUED_DATA);
  /** ... of the attempts held by routers whose lease lapsed ($5 this router). */
  private static final String REAP_LAPSED = END_ATTEMPTS.formatted(LAPSED_TARGET, J_ACTIVE, QUEUED_DATA);
  /** ... of this router's attempts over the execution timeout ($5 router, $6 timeout ms). */
  private static final String EXPIRE_RUNNING = END_ATTEMPTS.formatted(OVERTIME_TARGET, J_ACTIVE, QUEUED_DATA);

  /**
   * Puts jobs a claim took back to queued, the attempt not counted. Parameters: the input rows
   * (id, ...), and the condition on {@code j} (the job row) and {@code i} (its input row).
   */
  private static final String PUT_BACK = """
      WITH input AS (%s),
      upd AS (
        UPDATE jobs j SET status = 'queued', router_id = NULL, queued_at = now(), not_before = NULL,
          max_attempts = j.max_attempts + 1, event_seq = j.event_seq + 1
        FROM input i WHERE j.id = i.id AND %s
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT x.id, x.user_id, x.event_seq, 'job.queued', %s FROM upd x
      )
      SELECT * FROM upd""";
  /** ... after a failed assignment: $1 job ids, $2 their attempts. */
  static final String UNCLAIM = named(PUT_BACK.formatted(
      "SELECT * FROM unnest($1::uuid[], $2::int[]) AS t(id, attempt)", "j.attempt = i.attempt AND " + J_ACTIVE,
      QUEUED_DATA));

  /** ... after a claim reported failed that may have committed: $1 router, $2 job ids, $3 the workers it meant. */
  static final String UNCLAIM_UNDELIVERED = named(PUT_BACK.formatted(
      "SELECT * FROM unnest($2::uuid[], $3::text[]) AS t(id, worker)",
      "j.router_id = $1 AND j.worker_id = i.worker AND " + statusIn("j", "dispatched"), QUEUED_DATA));

  private static final String EXPIRE_QUEUED = named("""
      WITH target AS (
        SELECT id FROM jobs WHERE status = 'queued' AND queued_at < now() - make_interval(secs => $1::bigint / 1000.0)
        ORDER BY queued_at LIMIT 1000 FOR UPDATE SKIP LOCKED
      ), upd AS (
        UPDATE jobs j SET status = 'failed', error_code = 'queue_timeout',
          error_message = 'no worker started the job within the queue TTL', finished_at = now(),
          event_seq = j.event_seq + 1
        FROM target t WHERE j.id = t.id AND %s
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT id, user_id, event_seq, 'job.failed', jsonb_build_object('status', 'failed', 'attempt', attempt,
          'error', jsonb_build_object('code', error_code, 'message', error_message))
        FROM upd
      )
      SELECT * FROM upd""".formatted(J_QUEUED));

  static final String ADOPT = named("""
      WITH input AS (SELECT * FROM unnest($3::uuid[], $4::int[]) AS t(id, attempt))
      UPDATE jobs j SET router_id = $1
      FROM input i
      WHERE j.id = i.id AND j.attempt = i.attempt AND j.worker_id = $2 AND %s
      RETURNING {j.columns}""".formatted(J_ACTIVE));

  private static final String RENEW_LEASE = """
      INSERT INTO routers (id, lease_until, url) VALUES ($1, now() + make_interval(secs => $2::bigint / 1000.0), $3)
      ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until, url = EXCLUDED.url""";

  private static final String REQUEUE_FAILED = named("""
      WITH upd AS (
        UPDATE jobs j SET status = 'queued', queued_at = now(), not_before = NULL, finished_at = NULL,
          error_code = NULL, error_message = NULL, max_attempts = j.attempt + $2, router_id = NULL,
          event_seq = j.event_seq + 1
        WHERE j.id = ANY($1) AND j.status = 'failed'
        RETURNING {j.columns}
      ), ev AS (
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT x.id, x.user_id, x.event_seq, 'job.queued', %s || jsonb_build_object('requeued_by_operator', true)
        FROM upd x
      )
      SELECT * FROM upd""".formatted(QUEUED_DATA));

  private final Pool pool;
  private final Runnable outboxWritten;

  /**
   * @param outboxWritten told (on the caller's context) after each statement that committed outbox
   *     rows: it wakes the relay, which no trigger does (see V7__outbox_wakeup_in_process.sql)
   */
  public PgJobStore(Pool pool, Runnable outboxWritten) {
    this.pool = pool;
    this.outboxWritten = outboxWritten;
  }

  /**
   * Runs a statement that writes an outbox row for each job it returns, and wakes the relay if it
   * returned any (a cancel always returns its one row: a refused one costs one empty outbox read).
   */
  private Future<RowSet<Row>> writes(String sql, Tuple args) {
    return pool.preparedQuery(sql).execute(args).onSuccess(rows -> {
      if (rows.size() > 0) {
        outboxWritten.run();
      }
    });
  }

  @Override
  public Future<List<Inserted>> insert(List<NewJob> jobs) {
    int n = jobs.size();
    UUID[] ids = new UUID[n];
    UUID[] users = new UUID[n];
    String[] tiers = new String[n];
    String[] models = new String[n];
    String[] prompts = new String[n];
    String[] params = new String[n];
    Integer[] priorities = new Integer[n];
    Integer[] steps = new Integer[n];
    String[] keys = new String[n];
    Buffer[] hashes = new Buffer[n];
    Integer[] maxAttempts = new Integer[n];
    String[] workers = new String[n];
    String[] routers = new String[n];
    for (int i = 0; i < n; i++) {
      NewJob job = jobs.get(i);
      ids[i] = UUID.fromString(job.id());
      users[i] = UUID.fromString(job.userId());
      tiers[i] = job.tier();
      models[i] = job.params().model();
      prompts[i] = job.params().prompt();
      params[i] = job.params().toJson().encode();
      priorities[i] = job.params().priority();
      steps[i] = job.params().steps();
      keys[i] = job.idempotencyKey();
      hashes[i] = job.requestHash() == null ? null : Buffer.buffer(job.requestHash());
      maxAttempts[i] = job.maxAttempts();
      workers[i] = job.workerId();
      routers[i] = job.routerId();
    }
    return writes(INSERT, Tuple.of(ids, users, tiers, models, prompts, params).addArrayOfInteger(priorities)
            .addArrayOfString(keys).addArrayOfBuffer(hashes).addArrayOfInteger(maxAttempts)
            .addArrayOfString(workers).addArrayOfString(routers).addArrayOfInteger(steps))
        .map(rows -> inserted(jobs, ids, rows))
        .recover(err -> err instanceof ClosedConnectionException ? storedAnyway(jobs, ids, err)
            : Future.failedFuture(err));
  }

  /** Each job's outcome, in order: its row as stored, or not created (its idempotency key was taken). */
  private static List<Inserted> inserted(List<NewJob> jobs, UUID[] ids, RowSet<Row> rows) {
    Map<UUID, Row> byId = new HashMap<>();
    for (Row row : rows) {
      byId.put(row.getUUID("id"), row);
    }
    List<Inserted> out = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      Row row = byId.get(ids[i]);
      out.add(row == null ? new Inserted(null, false) : new Inserted(stored(jobs.get(i), row), true));
    }
    return out;
  }

  /**
   * The insert's connection went before its answer came (reset, or closed by the response watchdog
   * on a half-open link): the statement may have committed all the same, and its jobs would then
   * run while their clients were told 503 and their credits released. Its ids are new, so they are
   * looked up over another connection: stored (all of them, it was one statement), they are
   * accepted; not stored, or the lookup fails too, the insert's failure stands.
   */
  private Future<List<Inserted>> storedAnyway(List<NewJob> jobs, UUID[] ids, Throwable lost) {
    return lookUp(ids, 2)
        .recover(e -> Future.failedFuture(lost))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(lost);
          }
          LOG.atWarn().addKeyValue("jobs", rows.size()).addKeyValue("error", lost.toString())
              .log("a submission insert lost its connection after it committed; its jobs are accepted");
          return Future.succeededFuture(inserted(jobs, ids, rows));
        });
  }

  /**
   * The jobs' rows, asked once the failure has run its course: the lost connection leaves the pool
   * as it closes, after its statements are failed, and the idle ones the watchdog closes with it may
   * still be lent meanwhile, hence a second try.
   */
  private Future<RowSet<Row>> lookUp(UUID[] ids, int tries) {
    Promise<Void> later = Promise.promise();
    Context context = Vertx.currentContext();
    if (context == null) {
      later.complete();
    } else {
      context.runOnContext(v -> later.complete());
    }
    return later.future()
        .compose(v -> pool.preparedQuery("SELECT " + COLUMNS + " FROM jobs WHERE id = ANY($1)").execute(Tuple.of(ids)))
        .recover(e -> tries > 1 && e instanceof ClosedConnectionException ? lookUp(ids, tries - 1)
            : Future.failedFuture(e));
  }

  @Override
  public Future<Job> findByIdempotencyKey(String userId, String key) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM jobs WHERE user_id = $1 AND idempotency_key = $2")
        .execute(Tuple.of(UUID.fromString(userId), key))
        .map(rows -> rows.size() == 0 ? null : toJob(rows.iterator().next()));
  }

  @Override
  public Future<byte[]> requestHash(String jobId) {
    return pool.preparedQuery("SELECT request_hash FROM jobs WHERE id = $1")
        .execute(Tuple.of(UUID.fromString(jobId)))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Buffer hash = rows.iterator().next().getBuffer(0);
          return hash == null ? null : hash.getBytes();
        });
  }

  @Override
  public Future<Job> get(String userId, String jobId) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM jobs WHERE id = $1 AND user_id = $2")
        .execute(Tuple.of(UUID.fromString(jobId), UUID.fromString(userId)))
        .map(rows -> rows.size() == 0 ? null : toJob(rows.iterator().next()));
  }

  @Override
  public Future<List<Job>> getAll(String userId, List<String> jobIds) {
    UUID[] ids = jobIds.stream().map(UUID::fromString).toArray(UUID[]::new);
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM jobs WHERE id = ANY($1) AND user_id = $2")
        .execute(Tuple.of(ids, UUID.fromString(userId)))
        .map(rows -> {
          List<Job> jobs = new ArrayList<>(rows.size());
          rows.forEach(row -> jobs.add(toJob(row)));
          return jobs;
        });
  }

  /**
   * A page of the user's jobs, newest first. One index serves both the status-filtered and the full
   * listing, (user, status, created_at, id): the full one merges one ordered scan per status (a
   * Merge Append of six short index scans), so a job's row versions do not also feed an index on
   * (user, created_at, id) on every write.
   */
  @Override
  public Future<JobPage> list(String userId, JobStatus status, String cursor, int limit) {
    Tuple args = Tuple.of(UUID.fromString(userId));
    String after = "";
    if (cursor != null) {
      PageCursor c = PageCursor.decode(cursor);
      args.addOffsetDateTime(c.createdAt()).addUUID(c.id());
      after = " AND (created_at, id) < ($2, $3)";
    }
    args.addInteger(limit + 1);
    String page = " ORDER BY created_at DESC, id DESC LIMIT $" + args.size();
    StringBuilder sql = new StringBuilder();
    for (JobStatus s : status == null ? JobStatus.values() : new JobStatus[] {status}) {
      if (!sql.isEmpty()) {
        sql.append(" UNION ALL ");
      }
      sql.append("(SELECT ").append(COLUMNS).append(" FROM jobs WHERE user_id = $1 AND status = '").append(s.wire())
          .append("'").append(after).append(page).append(')');
    }
    if (status == null) {
      sql.append(page);
    }
    return pool.preparedQuery(sql.toString()).execute(args).map(rows -> {
      List<Job> items = new ArrayList<>();
      for (Row row : rows) {
        items.add(toJob(row));
      }
      String next = null;
      if (items.size() > limit) {
        items = items.subList(0, limit);
        Job last = items.get(limit - 1);
        next = PageCursor.after(last.createdAt(), last.id()).encode();
      }
      return new JobPage(List.copyOf(items), next);
    });
  }

  @Override
  public Future<Transition> cancel(String userId, String jobId) {
    return writes(CANCEL, Tuple.of(UUID.fromString(jobId), UUID.fromString(userId)))
        .map(rows -> {
          Row row = rows.iterator().next();
          if (row.getString("found") == null) {
            return null;
          }
          if (row.getUUID("id") == null) {
            return Transition.refused(jobId);
          }
          return new Transition(jobId, row.getUUID("user_id").toString(), JobStatus.CANCELED,
              row.getInteger("event_seq"), row.getInteger("attempt"), true);
        });
  }

  @Override
  public Future<List<Claimed>> claim(String routerId, List<String> jobIds, List<String> workerIds) {
    UUID[] ids = jobIds.stream().map(UUID::fromString).toArray(UUID[]::new);
    return writes(CLAIM, Tuple.of(routerId, ids, workerIds.toArray(String[]::new)))
        .map(PgJobStore::claims);
  }

  @Override
  public Future<List<Transition>> unclaim(List<String> jobIds, List<Integer> attempts) {
    UUID[] ids = jobIds.stream().map(UUID::fromString).toArray(UUID[]::new);
    return writes(UNCLAIM, Tuple.of(ids).addArrayOfInteger(attempts.toArray(Integer[]::new)))
        .map(PgJobStore::transitions);
  }

  @Override
  public Future<List<String>> unclaimUndelivered(String routerId, List<String> jobIds, List<String> workerIds) {
    UUID[] ids = jobIds.stream().map(UUID::fromString).toArray(UUID[]::new);
    return writes(UNCLAIM_UNDELIVERED, Tuple.of(routerId, ids, workerIds.toArray(String[]::new)))
        .map(PgJobStore::ids);
  }

  @Override
  public Future<Transition> progress(String jobId, int attempt, int step, int total, String preview) {
    return writes(PROGRESS, Tuple.of(UUID.fromString(jobId), attempt, step, total, preview))
        .map(rows -> {
          if (rows.size() == 0) {
            return Transition.refused(jobId);
          }
          Row row = rows.iterator().next();
          return new Transition(jobId, row.getUUID("user_id").toString(), JobStatus.RUNNING,
              row.getInteger("event_seq"), attempt, true);
        });
  }

  @Override
  public Future<List<Transition>> succeed(List<Success> results) {
    UUID[] ids = new UUID[results.size()];
    Integer[] attempts = new Integer[results.size()];
    String[] images = new String[results.size()];
    for (int i = 0; i < results.size(); i++) {
      ids[i] = UUID.fromString(results.get(i).jobId());
      attempts[i] = results.get(i).attempt();
      images[i] = results.get(i).images().encode();
    }
    return writes(SUCCEED, Tuple.of(ids).addArrayOfInteger(attempts).addArrayOfString(images))
        .map(rows -> {
          Map<String, Transition> applied = new HashMap<>();
          transitions(rows).forEach(t -> applied.put(t.jobId(), t));
          List<Transition> out = new ArrayList<>(results.size());
          results.forEach(r -> out.add(applied.getOrDefault(r.jobId(), Transition.refused(r.jobId()))));
          return out;
        });
  }

  @Override
  public Future<Transition> failAttempt(String jobId, int attempt, String code, String message,
      boolean retryable, Backoff backoff) {
    Tuple args = endArgs(code, message, backoff).addUUID(UUID.fromString(jobId)).addInteger(attempt)
        .addBoolean(retryable);
    return writes(FAIL_ONE, args)
        .map(rows -> rows.size() == 0 ? Transition.refused(jobId) : transitions(rows).get(0));
  }

  @Override
  public Future<List<Transition>> releaseWorker(String routerId, String workerId, String code, String message,
      Backoff backoff) {
    return writes(RELEASE_WORKER, endArgs(code, message, backoff).addString(routerId).addString(workerId))
        .map(PgJobStore::transitions);
  }

  @Override
  public Future<List<Claimed>> adopt(String routerId, String workerId, List<RunningJob> running) {
    List<RunningJob> valid = running.stream().filter(r -> Uuids.isUuid(r.jobId())).toList();
    if (valid.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    UUID[] ids = valid.stream().map(r -> UUID.fromString(r.jobId())).toArray(UUID[]::new);
    Integer[] attempts = valid.stream().map(RunningJob::attempt).toArray(Integer[]::new);
    return pool.preparedQuery(ADOPT).execute(Tuple.of(routerId, workerId, ids).addArrayOfInteger(attempts))
        .map(PgJobStore::claims);
  }

  @Override
  public Future<Void> renewRouterLease(String routerId, Duration lease, String url) {
    return pool.preparedQuery(RENEW_LEASE).execute(Tuple.of(routerId, lease.toMillis(), url)).mapEmpty();
  }

  @Override
  public Future<List<Replica>> liveRouters() {
    return pool.query("SELECT id, url FROM routers WHERE lease_until > now() ORDER BY id").execute().map(rows -> {
      List<Replica> out = new ArrayList<>();
      for (Row row : rows) {
        out.add(new Replica(row.getString("id"), row.getString("url")));
      }
      return out;
    });
  }

  @Override
  public Future<List<Job>> recentFailures(int limit) {
    return pool.preparedQuery("SELECT " + COLUMNS
            + " FROM jobs WHERE status = 'failed' ORDER BY finished_at DESC LIMIT $1")
        .execute(Tuple.of(limit)).map(rows -> {
          List<Job> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(toJob(row));
          }
          return out;
        });
  }

  @Override
  public Future<Job> getAny(String jobId) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM jobs WHERE id = $1")
        .execute(Tuple.of(UUID.fromString(jobId)))
        .map(rows -> rows.size() == 0 ? null : toJob(rows.iterator().next()));
  }

  @Override
  public Future<List<String>> requeueFailed(List<String> jobIds, int attempts) {
    UUID[] ids = jobIds.stream().filter(Uuids::isUuid).map(UUID::fromString).toArray(UUID[]::new);
    return writes(REQUEUE_FAILED, Tuple.of(ids, attempts)).map(PgJobStore::ids);
  }

  @Override
  public Future<List<Transition>> reapLapsedRouters(String self, Backoff backoff) {
    Tuple args = endArgs("router_lost", "the router replica holding the job stopped", backoff).addString(self);
    return writes(REAP_LAPSED, args)
        .map(PgJobStore::transitions);
  }

  @Override
  public Future<List<Transition>> expireQueued(Duration ttl) {
    return writes(EXPIRE_QUEUED, Tuple.of(ttl.toMillis())).map(PgJobStore::transitions);
  }

  @Override
  public Future<List<Transition>> expireRunning(String routerId, Duration timeout, Backoff backoff) {
    Tuple args = endArgs("execution_timeout", "the attempt ran longer than the execution timeout", backoff)
        .addString(routerId).addLong(timeout.toMillis());
    return writes(EXPIRE_RUNNING, args).map(PgJobStore::transitions);
  }

  @Override
  public Future<List<QueuedJob>> loadQueued() {
    return pool.query("SELECT " + COLUMNS + " FROM jobs WHERE status = 'queued'").execute().map(rows -> {
      List<QueuedJob> out = new ArrayList<>(rows.size());
      for (Row row : rows) {
        out.add(toQueued(row));
      }
      return out;
    });
  }

  @Override
  public Future<List<ActiveJob>> loadActive() {
    return pool.query("SELECT id, user_id, tier, router_id, worker_id, event_seq FROM jobs WHERE status IN " + ACTIVE)
        .execute().map(rows -> {
          List<ActiveJob> out = new ArrayList<>(rows.size());
          for (Row row : rows) {
            out.add(new ActiveJob(row.getUUID("id").toString(), row.getUUID("user_id").toString(),
                row.getString("tier"), row.getString("router_id"), row.getString("worker_id"),
                row.getInteger("event_seq")));
          }
          return out;
        });
  }

  private static List<Claimed> claims(RowSet<Row> rows) {
    List<Claimed> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      out.add(Claimed.of(toJob(row)));
    }
    return out;
  }

  private static Tuple endArgs(String code, String message, Backoff backoff) {
    return Tuple.of(code, message, backoff.base().toMillis(), backoff.max().toMillis());
  }

  /** The job ids of the rows. */
  private static List<String> ids(RowSet<Row> rows) {
    List<String> out = new ArrayList<>(rows.size());
    rows.forEach(row -> out.add(row.getUUID("id").toString()));
    return out;
  }

  private static List<Transition> transitions(RowSet<Row> rows) {
    List<Transition> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      out.add(new Transition(row.getUUID("id").toString(), row.getUUID("user_id").toString(),
          JobStatus.fromWire(row.getString("status")), row.getInteger("event_seq"), row.getInteger("attempt"), true));
    }
    return out;
  }

  /**
   * The job as stored from what the router sent and the columns Postgres set (the insert returns
   * only those: reading back and parsing each job's prompt and parameters was ~5 % of the submit
   * path's CPU).
   */
  static Job stored(NewJob job, Row row) {
    return new Job(job.id(), job.userId(), job.tier(), JobStatus.fromWire(row.getString("status")), job.params(),
        row.getInteger("attempt"), job.maxAttempts(), row.getString("worker_id"), row.getString("router_id"), 0,
        row.getInteger("progress_total"), null, null, new JsonArray(), row.getInteger("event_seq"),
        instant(row, "created_at"), instant(row, "queued_at"), null, null);
  }

  /** Maps a full {@code jobs} row. */
  public static Job toJob(Row row) {
    JsonObject params = asObject(row.getValue("params"));
    Object images = row.getValue("images");
    return new Job(row.getUUID("id").toString(), row.getUUID("user_id").toString(), row.getString("tier"),
        JobStatus.fromWire(row.getString("status")),
        JobParams.fromJson(row.getString("model"), row.getString("prompt"), params),
        row.getInteger("attempt"), row.getInteger("max_attempts"), row.getString("worker_id"),
        row.getString("router_id"), row.getInteger("progress_step"), row.getInteger("progress_total"),
        row.getString("error_code"), row.getString("error_message"),
        images instanceof JsonArray array ? array : new JsonArray(String.valueOf(images)),
        row.getInteger("event_seq"), instant(row, "created_at"), instant(row, "queued_at"),
        instant(row, "started_at"), instant(row, "finished_at"));
  }

  static QueuedJob toQueued(Row row) {
    JsonObject params = asObject(row.getValue("params"));
    Instant notBefore = instant(row, "not_before");
    List<String> loras = new ArrayList<>();
    params.getJsonArray("loras", new JsonArray()).forEach(l -> loras.add(((JsonObject) l).getString("name")));
    return new QueuedJob(row.getUUID("id").toString(), row.getUUID("user_id").toString(), row.getString("tier"),
        row.getString("model"), List.copyOf(loras), row.getInteger("priority"),
        instant(row, "queued_at").toEpochMilli(), notBefore == null ? 0 : notBefore.toEpochMilli(),
        params.getInteger("steps"), params.getInteger("count"), instant(row, "created_at").toEpochMilli());
  }

  private static JsonObject asObject(Object value) {
    if (value instanceof JsonObject object) {
      return object;
    }
    return new JsonObject(String.valueOf(value));
  }

  private static Instant instant(Row row, String column) {
    OffsetDateTime value = row.getOffsetDateTime(column);
    return value == null ? null : value.toInstant();
  }
}
