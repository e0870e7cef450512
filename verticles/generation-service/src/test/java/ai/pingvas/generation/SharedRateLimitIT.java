package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.SharedInfra;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tier's requests_per_minute holds across router replicas: a free user (10 per minute) who
 * spends 6 on replica A gets 4 more on replica B, then 429 there and on A. Two router processes on
 * one Postgres, user-service's configured tier table.
 */
class SharedRateLimitIT {
  private Cluster cluster;

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void theRequestsPerMinuteOfATierHoldAcrossReplicas() throws Exception {
    String db = SharedInfra.newDatabase("ratelimit");
    cluster = new Cluster("ratelimit", SharedInfra.get(), db, Map.of());
    Map<String, String> fastSync = Map.of("PINGVAS_RATELIMIT_SYNC_INTERVAL", "200ms");
    ApiClient a = new ApiClient(cluster.router("router-a", fastSync).url());
    ApiClient b = new ApiClient(cluster.router("router-b", fastSync).url());
    String free = cluster.createUser("free");

    for (int i = 0; i < 6; i++) {
      assertThat(a.post("/v1/generations", free, body(i)).status()).isEqualTo(202);
    }
    // A writes its 6 at its next sync; B reads them at the sync after that
    awaitUsed(db, "router-a", 6);
    Thread.sleep(600);

    for (int i = 6; i < 10; i++) {
      ApiClient.Response accepted = b.post("/v1/generations", free, body(i));
      assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
    }
    ApiClient.Response refused = b.post("/v1/generations", free, body(10));
    assertThat(refused.status()).as("B counts what A admitted: " + refused.body()).isEqualTo(429);
    assertThat(refused.json().getString("code")).isEqualTo("rate_limited");
    assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 66L);

    awaitUsed(db, "router-b", 4);
    Thread.sleep(600);
    assertThat(a.post("/v1/generations", free, body(11)).status()).as("A counts what B admitted").isEqualTo(429);
    // another user of the same tier is not affected
    assertThat(b.post("/v1/generations", cluster.createUser("free"), body(12)).status()).isEqualTo(202);
  }

  private static String body(int i) {
    return "{\"model\":\"sd-1.5\",\"prompt\":\"shared limit " + i + "\",\"width\":64,\"height\":64,\"steps\":2}";
  }

  /** Waits until the replica's rows of rate_usage hold {@code used} submissions. */
  private void awaitUsed(String dbUrl, String replica, int used) throws Exception {
    String sql = "SELECT coalesce(sum(used), 0) FROM generation.rate_usage WHERE replica LIKE '" + replica + "%'";
    long deadline = System.nanoTime() + 10_000_000_000L;
    long seen;
    while ((seen = RouterHarness.count(cluster.infra, dbUrl, sql)) != used) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(replica + " wrote " + seen + " submissions, expected " + used);
      }
      Thread.sleep(50);
    }
  }
}
