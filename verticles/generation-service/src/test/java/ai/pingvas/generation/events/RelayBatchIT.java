package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.generation.GenerationDatabase;
import ai.pingvas.platform.db.Database;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay reads the outbox's oldest rows up to a row count and a byte budget: after a Kafka
 * outage the backlog is full of progress events with previews of up to 256 KiB, and 2,000 of them
 * would not fit the router's heap. The first row always goes, however large.
 */
class RelayBatchIT {
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    Database database = GenerationDatabase.migrated("relaybatch", 2);
    pool = database.pool(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aBatchStopsAtTheByteBudgetAndSaysMoreIsWaiting() throws Exception {
    // five events of ~3.2 MB each (random hex: it does not compress), then small ones
    join(pool.query("""
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT gen_random_uuid(), gen_random_uuid(), 3, 'job.progress',
               jsonb_build_object('preview', (SELECT string_agg(md5(random()::text || g || i), '')
                                              FROM generate_series(1, 100000) i))
        FROM generate_series(1, 5) g""").execute());
    join(pool.query("""
        INSERT INTO outbox (job_id, user_id, seq, type, data)
        SELECT gen_random_uuid(), gen_random_uuid(), 2, 'job.dispatched', '{"status": "dispatched"}'
        FROM generate_series(1, 10)""").execute());

    List<Long> first = ids(read(2000));
    assertThat(first).as("rows before the 8 MiB budget is spent: 0, 3.2 and 6.4 MB").hasSize(3);
    Row last = null;
    for (Row row : read(2000)) {
      last = row;
    }
    assertThat(last.getLong("before") + last.getLong("bytes")).as("the budget is spent: more rows wait")
        .isGreaterThanOrEqualTo(OutboxRelayVerticle.BATCH_BYTES);

    join(pool.preparedQuery("DELETE FROM outbox WHERE id = ANY($1)").execute(Tuple.of(first.toArray(Long[]::new))));
    assertThat(ids(read(2000))).as("the two large rows left, then the small ones").hasSize(12);
    assertThat(ids(read(4))).as("the row count still caps a batch").hasSize(4);
  }

  private static RowSet<Row> read(int rows) throws Exception {
    return join(pool.preparedQuery(OutboxRelayVerticle.READ_BATCH).execute(Tuple.of(rows,
        OutboxRelayVerticle.BATCH_BYTES)));
  }

  private static List<Long> ids(RowSet<Row> rows) {
    List<Long> ids = new ArrayList<>();
    rows.forEach(row -> ids.add(row.getLong("id")));
    return ids;
  }

  private static <T> T join(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
