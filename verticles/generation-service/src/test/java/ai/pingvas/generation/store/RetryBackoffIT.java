package ai.pingvas.generation.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A failed attempt's job waits base x 2^(attempt-1), at most the configured cap, with jitter (half
 * to all of it), before it may run again; however many attempts a job has had, the statement works
 * (2^1999 overflowed Postgres' float8 and failed it, so the attempt could never be ended).
 */
class RetryBackoffIT {
  @RegisterExtension
  static final StoreFixture DB = new StoreFixture("backoff");

  @Test
  void theFirstRetryWaitsAboutTheBase() throws Exception {
    double waitedSeconds = failAndMeasure(1, new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60)));
    assertThat(waitedSeconds).isBetween(0.9, 2.1);
  }

  @Test
  void theWaitDoublesPerAttemptUpToTheCap() throws Exception {
    assertThat(failAndMeasure(3, new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60)))).isBetween(3.9, 8.1);
    assertThat(failAndMeasure(10, new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(5)))).isBetween(2.4, 5.1);
  }

  @Test
  void aJobWithThousandsOfAttemptsStillGetsItsRetry() throws Exception {
    assertThat(failAndMeasure(2000, new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(5)))).isBetween(2.4, 5.1);
  }

  /** Fails attempt {@code attempt} of a fresh dispatched job; returns how far away its not_before was set. */
  private static double failAndMeasure(int attempt, Backoff backoff) throws Exception {
    String id = UUID.randomUUID().toString();
    try (Statement sql = DB.jdbc.createStatement()) {
      sql.execute("""
          INSERT INTO jobs (id, user_id, tier, status, model, prompt, params, max_attempts, attempt, worker_id,
                            router_id, event_seq)
          VALUES ('%s', gen_random_uuid(), 'pro', 'dispatched', 'sdxl', 'a lighthouse', '{"steps": 4}', %d, %d,
                  'worker-1', 'router-a', 2)""".formatted(id, attempt + 1, attempt));
    }
    Transition t = DB.store.failAttempt(id, attempt, "worker_error", "out of memory", true, backoff)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(t.applied()).isTrue();
    assertThat(t.status()).isEqualTo(ai.pingvas.generation.domain.JobStatus.QUEUED);
    try (Statement sql = DB.jdbc.createStatement();
        ResultSet row = sql.executeQuery("SELECT extract(epoch FROM not_before - queued_at) FROM jobs WHERE id = '"
            + id + "'")) {
      row.next();
      return row.getDouble(1);
    }
  }
}
