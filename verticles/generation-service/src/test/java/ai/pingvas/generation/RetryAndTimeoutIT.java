package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Retries with backoff up to max_attempts, deterministic failures not retried, and the two timeouts. */
class RetryAndTimeoutIT {
  private static RouterHarness retries;
  private static RouterHarness timeouts;
  private static RouterHarness idle;
  private static ApiClient retryApi;
  private static ApiClient timeoutApi;
  private static ApiClient idleApi;

  @BeforeAll
  static void start() {
    retries = new RouterHarness("retries").with("PINGVAS_RETRY_BACKOFF_BASE", "100ms")
        .with("PINGVAS_RETRY_MAX_ATTEMPTS", "3").startedWithWorker("retry-worker", Map.of());
    retryApi = new ApiClient(retries.baseUrl());

    idle = new RouterHarness("queuettl").with("PINGVAS_QUEUE_TTL", "2s");
    idle.startRouter().toCompletionStage().toCompletableFuture().join();
    idleApi = new ApiClient(idle.baseUrl());

    timeouts = new RouterHarness("timeouts").with("PINGVAS_EXECUTION_TIMEOUT", "1s")
        .with("PINGVAS_RETRY_MAX_ATTEMPTS", "2").with("PINGVAS_RETRY_BACKOFF_BASE", "100ms");
    timeouts.startRouter().toCompletionStage().toCompletableFuture().join();
    timeoutApi = new ApiClient(timeouts.baseUrl());
  }

  @AfterAll
  static void stop() {
    retries.close();
    timeouts.close();
    idle.close();
  }

  private static JsonObject awaitTerminal(ApiClient api, String key, String id, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject job = api.get("/v1/generations/" + id, key).json();
      if (java.util.Set.of("succeeded", "failed", "canceled").contains(job.getString("status"))) {
        return job;
      }
      pause(100);
    }
    throw new AssertionError("job " + id + " did not finish within " + timeout);
  }

  private static String submit(ApiClient api, String key, String prompt, int steps) {
    JsonObject body = new JsonObject().put("model", "sd-1.5").put("prompt", prompt).put("steps", steps)
        .put("width", 128).put("height", 128);
    ApiClient.Response response = api.post("/v1/generations", key, body.encode());
    assertThat(response.status()).as(response.body()).isEqualTo(202);
    return response.json().getString("id");
  }

  @Test
  void retriesATransientFailureAndSucceedsOnTheNextAttempt() {
    String key = retries.createUser("pro");
    JsonObject job = awaitTerminal(retryApi, key, submit(retryApi, key, "!fail@1:engine_error a fox", 3),
        Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("succeeded");
    assertThat(job.getInteger("attempt")).isEqualTo(2);
    assertThat(job.getValue("error")).isNull();
  }

  @Test
  void givesUpAfterMaxAttemptsWithTheLastError() {
    String key = retries.createUser("pro");
    JsonObject job = awaitTerminal(retryApi, key, submit(retryApi, key, "!fail:engine_error a fox", 3),
        Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getInteger("attempt")).isEqualTo(3);
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("engine_error");
  }

  @Test
  void doesNotRetryDeterministicFailures() {
    String key = retries.createUser("pro");
    JsonObject job = awaitTerminal(retryApi, key, submit(retryApi, key, "!fail:bad_request a fox", 3),
        Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getInteger("attempt")).isEqualTo(1);
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("bad_request");
  }

  @Test
  void failsJobsThatWaitLongerThanTheQueueTtl() {
    String key = idle.createUser("pro");
    long began = System.nanoTime();
    JsonObject job = awaitTerminal(idleApi, key, submit(idleApi, key, "nobody will run this", 3),
        Duration.ofSeconds(15));
    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("queue_timeout");
    assertThat(job.getInteger("attempt")).isZero();
    assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofMillis(1_900));
  }

  @Test
  void retriesThenFailsAttemptsThatRunPastTheExecutionTimeout() throws Exception {
    String key = timeouts.createUser("pro");
    timeouts.startWorker("slow-worker", Map.of("PINGVAS_ENGINE_STEP_TIME", "200ms"))
        .toCompletionStage().toCompletableFuture().join();
    // 30 steps x 200 ms = 6 s per attempt, far past the 1 s execution timeout
    JsonObject job = awaitTerminal(timeoutApi, key, submit(timeoutApi, key, "a slow heron", 30),
        Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("execution_timeout");
    assertThat(job.getInteger("attempt")).isEqualTo(2);
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
