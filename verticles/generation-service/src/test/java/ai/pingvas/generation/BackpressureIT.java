package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Per-user and global queue caps answer 429 with Retry-After, and canceling frees the room. */
class BackpressureIT {
  private static final String BODY = "{\"model\": \"sd-1.5\", \"prompt\": \"a heron\"}";
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("backpressure")
        .with("PINGVAS_TIERS_FREE_MAX_QUEUED", "3")
        .with("PINGVAS_QUEUE_MAX_GLOBAL", "6")
        .with("PINGVAS_QUEUE_RETRY_AFTER", "7s");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void capsQueuedJobsPerUserAndGloballyWith429AndRetryAfter() {
    String alice = harness.createUser("free");
    String bob = harness.createUser("free");
    String carol = harness.createUser("pro");
    List<String> aliceJobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ApiClient.Response accepted = api.post("/v1/generations", alice, BODY);
      assertThat(accepted.status()).isEqualTo(202);
      aliceJobs.add(accepted.json().getString("id"));
    }
    ApiClient.Response full = api.post("/v1/generations", alice, BODY);
    assertThat(full.status()).isEqualTo(429);
    assertThat(full.json().getString("code")).isEqualTo("user_queue_full");
    assertThat(full.json().getString("detail")).contains("3");
    assertThat(full.headers().firstValue("Retry-After")).contains("7");

    for (int i = 0; i < 3; i++) {
      assertThat(api.post("/v1/generations", bob, BODY).status()).isEqualTo(202);
    }
    ApiClient.Response global = api.post("/v1/generations", carol, BODY);
    assertThat(global.status()).isEqualTo(429);
    assertThat(global.json().getString("code")).isEqualTo("queue_full");
    assertThat(global.headers().firstValue("Retry-After")).isPresent();

    // canceling frees the room at once
    assertThat(api.post("/v1/generations/" + aliceJobs.get(0) + "/cancel", alice, "").status()).isEqualTo(200);
    assertThat(api.post("/v1/generations", carol, BODY).status()).isEqualTo(202);
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE status = 'queued'")).isEqualTo(6);
  }
}
