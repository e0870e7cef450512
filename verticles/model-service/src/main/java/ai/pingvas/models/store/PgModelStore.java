package ai.pingvas.models.store;

import ai.pingvas.models.domain.Model;
import ai.pingvas.models.domain.WorkerEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link ModelStore} on PostgreSQL; every statement of the service is here. */
public final class PgModelStore implements ModelStore {
  private static final String COLUMNS = "name, kind, base, size_mb, vram_mb, source, sha256, default_params, "
      + "created_at, updated_at";
  private static final String LIST = "SELECT " + COLUMNS + " FROM models "
      + "WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR base = $2) ORDER BY name";
  private static final String GET = "SELECT " + COLUMNS + " FROM models WHERE name = $1";
  private static final String INSERT = """
      INSERT INTO models (name, kind, base, size_mb, vram_mb, source, sha256, default_params)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
      ON CONFLICT (name) DO NOTHING""";
  private static final String UPDATE = """
      UPDATE models SET kind = $2, base = $3, size_mb = $4, vram_mb = $5, source = $6, sha256 = $7,
        default_params = $8::jsonb, updated_at = now()
      WHERE name = $1
      RETURNING\s""" + COLUMNS;
  private static final String DELETE = "DELETE FROM models WHERE name = $1";
  private static final String SEEN = """
      INSERT INTO worker_models (worker_id, session_id, router_id, engine, gpu, vram_mb, vram_free_mb, models, seen_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (worker_id) DO UPDATE SET session_id = EXCLUDED.session_id, router_id = EXCLUDED.router_id,
        engine = EXCLUDED.engine, gpu = EXCLUDED.gpu, vram_mb = EXCLUDED.vram_mb,
        vram_free_mb = EXCLUDED.vram_free_mb, models = EXCLUDED.models, seen_at = EXCLUDED.seen_at
      WHERE worker_models.seen_at <= EXCLUDED.seen_at""";
  private static final String GONE = "DELETE FROM worker_models WHERE worker_id = $1 AND session_id = $2";
  private static final String HOLDERS = """
      SELECT m AS model, array_agg(worker_id ORDER BY worker_id) AS workers
      FROM worker_models, unnest(models) AS m
      WHERE seen_at > now() - make_interval(secs => $1::bigint / 1000.0)
      GROUP BY m""";
  private static final String PRUNE = "DELETE FROM worker_models WHERE seen_at < now() - make_interval(secs => "
      + "$1::bigint / 1000.0)";

  private final Pool pool;

  public PgModelStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<List<Model>> list(String kind, String base) {
    return pool.preparedQuery(LIST).execute(Tuple.of(kind, base)).map(rows -> {
      List<Model> out = new ArrayList<>();
      rows.forEach(row -> out.add(toModel(row)));
      return out;
    });
  }

  @Override
  public Future<Model> get(String name) {
    return pool.preparedQuery(GET).execute(Tuple.of(name))
        .map(rows -> rows.size() == 0 ? null : toModel(rows.iterator().next()));
  }

  @Override
  public Future<Boolean> create(Model model) {
    return pool.preparedQuery(INSERT).execute(fields(model)).map(rows -> rows.rowCount() == 1);
  }

  @Override
  public Future<Integer> createMissing(List<Model> models) {
    if (models.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery(INSERT).executeBatch(models.stream().map(PgModelStore::fields).toList())
        .map(result -> {
          int created = 0;
          for (var rows = result; rows != null; rows = rows.next()) {
            created += rows.rowCount();
          }
          return created;
        });
  }

  @Override
  public Future<Model> update(Model model) {
    return pool.preparedQuery(UPDATE).execute(fields(model))
        .map(rows -> rows.size() == 0 ? null : toModel(rows.iterator().next()));
  }

  @Override
  public Future<Boolean> delete(String name) {
    return pool.preparedQuery(DELETE).execute(Tuple.of(name)).map(rows -> rows.rowCount() == 1);
  }

  @Override
  public Future<Void> apply(List<WorkerEvent> events) {
    Future<Void> chain = Future.succeededFuture();
    for (WorkerEvent event : events) {
      chain = chain.compose(v -> applyOne(event));
    }
    return chain;
  }

  private Future<Void> applyOne(WorkerEvent e) {
    if (WorkerEvent.GONE.equals(e.type())) {
      return pool.preparedQuery(GONE).execute(Tuple.of(e.workerId(), e.sessionId())).mapEmpty();
    }
    Tuple args = Tuple.of(e.workerId(), e.sessionId(), e.routerId(), e.engine(), e.gpu(), e.vramMb(), e.vramFreeMb())
        .addArrayOfString(e.models().toArray(String[]::new))
        .addOffsetDateTime(OffsetDateTime.ofInstant(e.ts(), ZoneOffset.UTC));
    return pool.preparedQuery(SEEN).execute(args).mapEmpty();
  }

  @Override
  public Future<Map<String, List<String>>> holders(Duration ttl) {
    return pool.preparedQuery(HOLDERS).execute(Tuple.of(ttl.toMillis())).map(rows -> {
      Map<String, List<String>> out = new LinkedHashMap<>();
      for (Row row : rows) {
        out.put(row.getString("model"), List.of(row.getArrayOfStrings("workers")));
      }
      return out;
    });
  }

  @Override
  public Future<Integer> prune(Duration age) {
    return pool.preparedQuery(PRUNE).execute(Tuple.of(age.toMillis())).map(rows -> rows.rowCount());
  }

  private static Tuple fields(Model m) {
    return Tuple.of(m.name(), m.kind(), m.base(), m.sizeMb(), m.vramMb(), m.source(), m.sha256(),
        m.defaultParams().encode());
  }

  private static Model toModel(Row row) {
    Object params = row.getValue("default_params");
    JsonObject defaults = params instanceof JsonObject json ? json : new JsonObject(String.valueOf(params));
    return new Model(row.getString("name"), row.getString("kind"), row.getString("base"), row.getInteger("size_mb"),
        row.getInteger("vram_mb"), row.getString("source"), row.getString("sha256"), defaults,
        row.getOffsetDateTime("created_at").toInstant(), row.getOffsetDateTime("updated_at").toInstant());
  }
}
