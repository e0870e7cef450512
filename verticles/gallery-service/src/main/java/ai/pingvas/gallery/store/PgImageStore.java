package ai.pingvas.gallery.store;

import ai.pingvas.platform.db.PageCursor;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** {@link ImageStore} on PostgreSQL. */
public final class PgImageStore implements ImageStore {
  /**
   * The {@code images} columns read, by name: {@code *} would change a prepared statement's result
   * type when a migration adds a column, failing it once per pooled connection.
   */
  private static final String COLUMNS = "id, user_id, job_id, attempt, idx, object_key, prompt, model, seed, width, "
      + "height, size_bytes, sha256, created_at, thumbnail_key, thumbnail_bytes";
  private static final String INSERT = """
      INSERT INTO images (id, user_id, job_id, attempt, idx, object_key, prompt, model, seed, width, height,
                          size_bytes, sha256, thumbnail_key, thumbnail_bytes)
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::text[], $7::text[],
                           $8::text[], $9::bigint[], $10::int[], $11::int[], $12::bigint[], $13::text[], $14::text[],
                           $15::bigint[]) AS t(id)
      WHERE NOT EXISTS (SELECT 1 FROM deleted_images d WHERE d.id = t.id)
      ON CONFLICT (id) DO NOTHING""";
  /** The rows whose objects a finished job's cleanup deletes: rows follow their files. */
  private static final String FORGET_REMOVED = """
      DELETE FROM images i USING unnest($1::uuid[], $2::int[], $3::text[]) AS t(job_id, up_to, keep)
      WHERE i.job_id = t.job_id AND i.attempt <= t.up_to
        AND NOT (i.object_key = ANY(ARRAY(SELECT jsonb_array_elements_text(t.keep::jsonb))))""";
  private static final String WITHOUT_THUMBNAIL = "SELECT id FROM images WHERE id = ANY($1::uuid[]) "
      + "AND thumbnail_key IS NULL";
  private static final String SET_THUMBNAIL = "UPDATE images SET thumbnail_key = $2, thumbnail_bytes = $3 WHERE id = $1";
  private static final String GET = "SELECT " + COLUMNS + " FROM images WHERE id = $1 AND user_id = $2";
  private static final String DELETE = """
      WITH gone AS (DELETE FROM images WHERE id = $1 AND user_id = $2 RETURNING id, thumbnail_key),
      tombstone AS (INSERT INTO deleted_images (id) SELECT id FROM gone ON CONFLICT (id) DO NOTHING)
      SELECT thumbnail_key FROM gone""";
  private static final String PURGE_TOMBSTONES = "DELETE FROM deleted_images WHERE id IN (SELECT id FROM deleted_images "
      + "WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2)";
  private static final String SCHEDULE_RECHECKS = """
      INSERT INTO cleanup_rechecks (job_id, prefix, up_to, keep, due_at)
      SELECT t.job_id, t.prefix, t.up_to, ARRAY(SELECT jsonb_array_elements_text(t.keep::jsonb)),
             now() + make_interval(secs => $5::bigint / 1000.0)
      FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[]) AS t(job_id, prefix, up_to, keep)
      ON CONFLICT (job_id) DO UPDATE SET prefix = EXCLUDED.prefix, up_to = EXCLUDED.up_to, keep = EXCLUDED.keep,
        due_at = EXCLUDED.due_at
      WHERE cleanup_rechecks.up_to <= EXCLUDED.up_to""";
  private static final String DUE_RECHECKS = """
      UPDATE cleanup_rechecks SET due_at = now() + make_interval(secs => $2::bigint / 1000.0)
      WHERE job_id IN (SELECT job_id FROM cleanup_rechecks WHERE due_at <= now() ORDER BY due_at LIMIT $1
                       FOR UPDATE SKIP LOCKED)
      RETURNING job_id, prefix, up_to, keep""";
  private static final String RECHECKED = "DELETE FROM cleanup_rechecks c USING unnest($1::uuid[], $2::int[]) "
      + "AS t(job_id, up_to) WHERE c.job_id = t.job_id AND c.up_to = t.up_to";
  private static final String USAGE = "SELECT count(*) AS n, coalesce(sum(size_bytes + thumbnail_bytes), 0)::bigint AS bytes "
      + "FROM images WHERE user_id = $1";

  private final Pool pool;

  public PgImageStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Integer> insert(List<Image> images) {
    if (images.isEmpty()) {
      return Future.succeededFuture(0);
    }
    int n = images.size();
    UUID[] ids = new UUID[n];
    UUID[] users = new UUID[n];
    UUID[] jobs = new UUID[n];
    Integer[] attempts = new Integer[n];
    Integer[] indexes = new Integer[n];
    String[] keys = new String[n];
    String[] prompts = new String[n];
    String[] models = new String[n];
    Long[] seeds = new Long[n];
    Integer[] widths = new Integer[n];
    Integer[] heights = new Integer[n];
    Long[] sizes = new Long[n];
    String[] hashes = new String[n];
    String[] thumbKeys = new String[n];
    Long[] thumbSizes = new Long[n];
    for (int i = 0; i < n; i++) {
      Image image = images.get(i);
      ids[i] = UUID.fromString(image.id());
      users[i] = UUID.fromString(image.userId());
      jobs[i] = UUID.fromString(image.jobId());
      attempts[i] = image.attempt();
      indexes[i] = image.index();
      keys[i] = image.objectKey();
      prompts[i] = image.prompt();
      models[i] = image.model();
      seeds[i] = image.seed();
      widths[i] = image.width();
      heights[i] = image.height();
      sizes[i] = image.sizeBytes();
      hashes[i] = image.sha256();
      thumbKeys[i] = image.thumbnailKey();
      thumbSizes[i] = image.thumbnailBytes();
    }
    Tuple args = Tuple.of(ids, users, jobs).addArrayOfInteger(attempts).addArrayOfInteger(indexes)
        .addArrayOfString(keys).addArrayOfString(prompts).addArrayOfString(models).addArrayOfLong(seeds)
        .addArrayOfInteger(widths).addArrayOfInteger(heights).addArrayOfLong(sizes).addArrayOfString(hashes)
        .addArrayOfString(thumbKeys).addArrayOfLong(thumbSizes);
    return pool.preparedQuery(INSERT).execute(args).map(SqlResult::rowCount);
  }

  @Override
  public Future<Integer> forgetRemoved(List<UploadCleanup> cleanups) {
    if (cleanups.isEmpty()) {
      return Future.succeededFuture(0);
    }
    UUID[] jobs = cleanups.stream().map(c -> UUID.fromString(c.jobId())).toArray(UUID[]::new);
    Integer[] upTo = cleanups.stream().map(UploadCleanup::upTo).toArray(Integer[]::new);
    String[] keep = cleanups.stream().map(c -> new JsonArray(List.copyOf(c.keep())).encode()).toArray(String[]::new);
    return pool.preparedQuery(FORGET_REMOVED)
        .execute(Tuple.tuple().addArrayOfUUID(jobs).addArrayOfInteger(upTo).addArrayOfString(keep))
        .map(SqlResult::rowCount);
  }

  @Override
  public Future<Image> get(String userId, String imageId) {
    return pool.preparedQuery(GET)
        .execute(Tuple.of(UUID.fromString(imageId), UUID.fromString(userId)))
        .map(rows -> rows.size() == 0 ? null : toImage(rows.iterator().next()));
  }

  @Override
  public Future<Boolean> setThumbnail(String imageId, String key, long bytes) {
    return pool.preparedQuery(SET_THUMBNAIL).execute(Tuple.of(UUID.fromString(imageId), key, bytes))
        .map(rows -> rows.rowCount() == 1);
  }

  @Override
  public Future<Set<String>> withoutThumbnail(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    UUID[] uuids = ids.stream().map(UUID::fromString).toArray(UUID[]::new);
    return pool.preparedQuery(WITHOUT_THUMBNAIL).execute(Tuple.of(uuids)).map(rows -> {
      Set<String> out = new HashSet<>();
      rows.forEach(row -> out.add(row.getUUID("id").toString()));
      return out;
    });
  }

  @Override
  public Future<Deleted> delete(String userId, String imageId) {
    return pool.preparedQuery(DELETE).execute(Tuple.of(UUID.fromString(imageId), UUID.fromString(userId)))
        .map(rows -> rows.size() == 0 ? null : new Deleted(rows.iterator().next().getString("thumbnail_key")));
  }

  @Override
  public Future<Usage> usage(String userId) {
    return pool.preparedQuery(USAGE).execute(Tuple.of(UUID.fromString(userId))).map(rows -> {
      Row row = rows.iterator().next();
      return new Usage(row.getLong("n"), row.getLong("bytes"));
    });
  }

  @Override
  public Future<ImagePage> list(String userId, String cursor, int limit) {
    String sql = "SELECT " + COLUMNS + " FROM images WHERE user_id = $1"
        + (cursor == null ? "" : " AND (created_at, id) < ($3, $4)")
        + " ORDER BY created_at DESC, id DESC LIMIT $2";
    Tuple args = Tuple.of(UUID.fromString(userId), limit + 1);
    if (cursor != null) {
      PageCursor c = PageCursor.decode(cursor);
      args.addOffsetDateTime(c.createdAt()).addUUID(c.id());
    }
    return pool.preparedQuery(sql).execute(args).map(rows -> {
      List<Image> items = new ArrayList<>();
      for (Row row : rows) {
        items.add(toImage(row));
      }
      String next = null;
      if (items.size() > limit) {
        items = items.subList(0, limit);
        Image last = items.get(limit - 1);
        next = PageCursor.after(last.createdAt(), last.id()).encode();
      }
      return new ImagePage(List.copyOf(items), next);
    });
  }

  private static Image toImage(Row row) {
    return new Image(row.getUUID("id").toString(), row.getUUID("user_id").toString(),
        row.getUUID("job_id").toString(), row.getInteger("attempt"), row.getInteger("idx"),
        row.getString("object_key"), row.getString("prompt"), row.getString("model"), row.getLong("seed"),
        row.getInteger("width"), row.getInteger("height"), row.getLong("size_bytes"), row.getString("sha256"),
        row.getOffsetDateTime("created_at").toInstant(), row.getString("thumbnail_key"),
        row.getLong("thumbnail_bytes"));
  }

  @Override
  public Future<Integer> purgeTombstones(Instant before, int limit) {
    return pool.preparedQuery(PURGE_TOMBSTONES).execute(Tuple.of(before.atOffset(ZoneOffset.UTC), limit))
        .map(SqlResult::rowCount);
  }

  @Override
  public Future<Void> scheduleRechecks(List<UploadCleanup> cleanups, Duration after) {
    int n = cleanups.size();
    UUID[] jobs = new UUID[n];
    String[] prefixes = new String[n];
    Integer[] upTo = new Integer[n];
    String[] keep = new String[n];
    for (int i = 0; i < n; i++) {
      UploadCleanup c = cleanups.get(i);
      jobs[i] = UUID.fromString(c.jobId());
      prefixes[i] = c.prefix();
      upTo[i] = c.upTo();
      keep[i] = new JsonArray(List.copyOf(c.keep())).encode();
    }
    return pool.preparedQuery(SCHEDULE_RECHECKS)
        .execute(Tuple.tuple().addArrayOfUUID(jobs).addArrayOfString(prefixes).addArrayOfInteger(upTo)
            .addArrayOfString(keep).addLong(after.toMillis()))
        .mapEmpty();
  }

  @Override
  public Future<List<UploadCleanup>> dueRechecks(int limit, Duration lease) {
    return pool.preparedQuery(DUE_RECHECKS).execute(Tuple.of(limit, lease.toMillis())).map(rows -> {
      List<UploadCleanup> due = new ArrayList<>(rows.size());
      for (Row row : rows) {
        due.add(new UploadCleanup(row.getUUID("job_id").toString(), row.getString("prefix"), row.getInteger("up_to"),
            Set.of(row.getArrayOfStrings("keep"))));
      }
      return due;
    });
  }

  @Override
  public Future<Void> rechecked(List<UploadCleanup> done) {
    UUID[] jobs = done.stream().map(c -> UUID.fromString(c.jobId())).toArray(UUID[]::new);
    Integer[] upTo = done.stream().map(UploadCleanup::upTo).toArray(Integer[]::new);
    return pool.preparedQuery(RECHECKED).execute(Tuple.tuple().addArrayOfUUID(jobs).addArrayOfInteger(upTo))
        .mapEmpty();
  }
}
