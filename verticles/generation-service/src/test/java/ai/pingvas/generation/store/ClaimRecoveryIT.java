package ai.pingvas.generation.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A claim whose connection broke after it committed is reported failed to the dispatcher: the jobs
 * it dispatched (to workers never sent them) go back to queued, without counting the attempt; what
 * it did not dispatch, or another router did, is left alone.
 */
class ClaimRecoveryIT {
  @RegisterExtension
  static final StoreFixture DB = new StoreFixture("claimrecovery");

  @Test
  void theJobsOfAClaimThatCommittedUnseenGoBackToQueuedWithTheirAttemptGiven() throws Exception {
    String mine = queuedJob();
    String elsewhere = queuedJob();
    String neverClaimed = queuedJob();
    // the claims commit; this router then hears only that its own failed
    assertThat(StoreFixture.join(DB.store.claim("router-a", List.of(mine), List.of("worker-1")))).hasSize(1);
    assertThat(StoreFixture.join(DB.store.claim("router-b", List.of(elsewhere), List.of("worker-1")))).hasSize(1);

    List<String> back = StoreFixture.join(DB.store.unclaimUndelivered("router-a", List.of(mine, elsewhere, neverClaimed),
        List.of("worker-1", "worker-1", "worker-1")));
    assertThat(back).containsExactly(mine);
    assertThat(row(mine)).isEqualTo("queued|null|4|last=job.queued");
    assertThat(row(elsewhere)).isEqualTo("dispatched|router-b|3|last=job.dispatched");
    assertThat(row(neverClaimed)).isEqualTo("queued|null|3|last=none");
    // the job can be claimed again, and checking the failed claim twice changes nothing more
    assertThat(StoreFixture.join(DB.store.unclaimUndelivered("router-a", List.of(mine), List.of("worker-1")))).isEmpty();
    assertThat(StoreFixture.join(DB.store.claim("router-a", List.of(mine), List.of("worker-2")))).hasSize(1);
    assertThat(StoreFixture.join(DB.store.unclaimUndelivered("router-a", List.of(mine), List.of("worker-1")))).isEmpty();
    assertThat(row(mine)).startsWith("dispatched|router-a|4|");
  }

  private static String queuedJob() throws Exception {
    String id = UUID.randomUUID().toString();
    try (Statement sql = DB.jdbc.createStatement()) {
      sql.execute("""
          INSERT INTO jobs (id, user_id, tier, status, model, prompt, params, max_attempts, event_seq)
          VALUES ('%s', gen_random_uuid(), 'pro', 'queued', 'sdxl', 'a lighthouse', '{"width": 512, "height": 512,
                  "steps": 4, "cfg_scale": 7, "seed": 1, "scheduler": "euler", "loras": [], "count": 1,
                  "priority": 0}', 3, 1)""".formatted(id));
    }
    return id;
  }

  /** status|router|max_attempts|last=type of its newest outbox event. */
  private static String row(String id) throws Exception {
    try (Statement sql = DB.jdbc.createStatement(); ResultSet r = sql.executeQuery("""
        SELECT status, router_id, max_attempts,
               coalesce((SELECT type FROM outbox o WHERE o.job_id = j.id ORDER BY o.id DESC LIMIT 1), 'none')
        FROM jobs j WHERE id = '%s'""".formatted(id))) {
      r.next();
      return r.getString(1) + "|" + r.getString(2) + "|" + r.getInt(3) + "|last=" + r.getString(4);
    }
  }

}
