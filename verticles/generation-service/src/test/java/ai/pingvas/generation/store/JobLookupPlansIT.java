package ai.pingvas.generation.store;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.PostgresServer;
import ai.pingvas.generation.GenerationDatabase;
import ai.pingvas.platform.db.Database;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The statements that find jobs by id (a worker's progress and results, claims, re-queues, adoption)
 * go through the primary key, whatever the statistics say about how many jobs are active or queued.
 *
 * <p>With a few active jobs among many finished ones, as under load, Postgres estimated the partial
 * index {@code jobs_active} (or {@code jobs_queued}) at one row and scanned all of it, dead entries
 * of every job finished since the last vacuum included, to find a handful of ids: the benchmark's
 * result updates read ~48 index entries and fetched ~15 rows per statement for jobs they did not
 * touch. The setup here is that state (20,000 finished and analyzed, then 5 active and 5 queued); the plans are
 * the generic ones the router's connections use ({@code plan_cache_mode = force_generic_plan}).
 */
class JobLookupPlansIT {
  private static Connection jdbc;
  private static String dispatched;
  private static String queued;

  @BeforeAll
  static void jobs() throws Exception {
    Database database = GenerationDatabase.migrated("plans", 1);
    jdbc = DriverManager.getConnection(database.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
    try (Statement sql = jdbc.createStatement()) {
      sql.execute("SET search_path = generation");
      // as under load: the statistics were taken while (almost) every job had finished
      sql.execute(insert("'succeeded'", 20_000));
      sql.execute("ANALYZE jobs");
      sql.execute(insert("'dispatched'", 5));
      sql.execute(insert("'queued'", 5));
      sql.execute("SET plan_cache_mode = force_generic_plan");
      dispatched = single(sql, "SELECT id FROM jobs WHERE status = 'dispatched' LIMIT 1");
      queued = single(sql, "SELECT id FROM jobs WHERE status = 'queued' LIMIT 1");
    }
  }

  @AfterAll
  static void close() throws Exception {
    jdbc.close();
  }

  @Test
  void resultsOfAWorker() throws Exception {
    assertByPrimaryKey("succeed", "uuid[], int[], text[]", PgJobStore.SUCCEED,
        "ARRAY['%s']::uuid[], ARRAY[1], ARRAY['[]']".formatted(dispatched));
  }

  @Test
  void progressOfAWorker() throws Exception {
    assertByPrimaryKey("progress", "uuid, int, int, int, text", PgJobStore.PROGRESS,
        "'%s', 1, 2, 4, NULL".formatted(dispatched));
  }

  @Test
  void failureOfAnAttempt() throws Exception {
    assertByPrimaryKey("fail_one", "text, text, bigint, bigint, uuid, int, boolean", PgJobStore.FAIL_ONE,
        "'worker_error', 'out of memory', 1000, 30000, '%s', 1, true".formatted(dispatched));
  }

  @Test
  void attemptsHandedBack() throws Exception {
    assertByPrimaryKey("unclaim", "uuid[], int[]", PgJobStore.UNCLAIM,
        "ARRAY['%s']::uuid[], ARRAY[1]".formatted(dispatched));
  }

  @Test
  void jobsAdoptedFromAWorkersHello() throws Exception {
    assertByPrimaryKey("adopt", "text, text, uuid[], int[]", PgJobStore.ADOPT,
        "'router-b', 'worker-1', ARRAY['%s']::uuid[], ARRAY[1]".formatted(dispatched));
  }

  @Test
  void claimsOfQueuedJobs() throws Exception {
    assertByPrimaryKey("claim", "text, uuid[], text[]", PgJobStore.CLAIM,
        "'router-a', ARRAY['%s']::uuid[], ARRAY['worker-1']".formatted(queued));
  }

  /** The statement's generic plan (not run) reads {@code jobs} through its primary key only. */
  private static void assertByPrimaryKey(String name, String types, String statement, String args)
      throws Exception {
    StringBuilder plan = new StringBuilder();
    try (Statement sql = jdbc.createStatement()) {
      sql.execute("PREPARE " + name + " (" + types + ") AS " + statement);
      try (ResultSet rows = sql.executeQuery("EXPLAIN EXECUTE " + name + " (" + args + ")")) {
        while (rows.next()) {
          plan.append(rows.getString(1)).append('\n');
        }
      } finally {
        sql.execute("DEALLOCATE " + name);
      }
    }
    assertThat(plan.toString()).as(name + "'s plan").contains("jobs_pkey")
        .doesNotContain("jobs_active").doesNotContain("jobs_queued").doesNotContain("Seq Scan on jobs");
  }

  private static String insert(String status, int count) {
    boolean queued = status.equals("'queued'");
    return """
        INSERT INTO jobs (id, user_id, tier, status, model, prompt, params, max_attempts, attempt, worker_id,
                          router_id, event_seq)
        SELECT gen_random_uuid(), gen_random_uuid(), 'pro', %s, 'sdxl-base', 'a lighthouse',
               '{"steps": 4, "count": 1}', 3, %s, %s, %s, 2
        FROM generate_series(1, %d) g""".formatted(status, queued ? "0" : "1",
        queued ? "NULL" : "'worker-' || (g % 10)", queued ? "NULL" : "'router-a'", count);
  }

  private static String single(Statement sql, String query) throws Exception {
    try (ResultSet rows = sql.executeQuery(query)) {
      rows.next();
      return rows.getString(1);
    }
  }
}
