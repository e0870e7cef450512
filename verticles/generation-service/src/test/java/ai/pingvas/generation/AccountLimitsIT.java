package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router authenticates through user-service (access tokens locally, API keys by introspection)
 * and enforces the limits of the caller's tier as user-service publishes them.
 */
class AccountLimitsIT {
  private static RouterHarness harness;
  private static ApiClient api;
  private static ApiClient users;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("limits").withConfiguredTierLimits();
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
    users = new ApiClient("http://127.0.0.1:" + harness.usersPort);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void refusesAResolutionAboveTheTiersLimitNamingIt() {
    String free = harness.createUser("free");
    ApiClient.Response tooBig = api.post("/v1/generations", free,
        "{\"model\":\"sd-1.5\",\"prompt\":\"wide\",\"width\":2048,\"height\":512}");
    assertThat(tooBig.status()).isEqualTo(422);
    assertThat(tooBig.json().getString("code")).isEqualTo("max_resolution_exceeded");
    assertThat(tooBig.json().getString("detail")).contains("max_resolution").contains("1024");
    assertThat(api.post("/v1/generations", free, "{\"model\":\"sd-1.5\",\"prompt\":\"ok\",\"width\":1024}").status())
        .isEqualTo(202);
    String studio = harness.createUser("studio");
    assertThat(api.post("/v1/generations", studio, "{\"model\":\"sd-1.5\",\"prompt\":\"wide\",\"width\":2048}")
        .status()).isEqualTo(202);
  }

  @Test
  void limitsSubmissionsPerMinuteWith429AndRetryAfter() {
    String free = harness.createUser("free");
    for (int i = 0; i < 10; i++) {
      assertThat(api.post("/v1/generations", free, "{\"model\":\"sd-1.5\",\"prompt\":\"n" + i + "\"}").status())
          .isEqualTo(202);
    }
    ApiClient.Response limited = api.post("/v1/generations", free, "{\"model\":\"sd-1.5\",\"prompt\":\"one more\"}");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.json().getString("code")).isEqualTo("rate_limited");
    assertThat(limited.json().getString("detail")).contains("requests_per_minute");
    // counted over the last minute (sliding): the rest of this minute, then a tenth of the next for 10 to fade to 9
    assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 66L);
    // another user is not affected
    assertThat(api.post("/v1/generations", harness.createUser("free"), "{\"model\":\"sd-1.5\",\"prompt\":\"x\"}")
        .status()).isEqualTo(202);
  }

  @Test
  void acceptsAccessTokensAndTakesTheTierFromThem() {
    JsonObject signUp = users.post("/v1/users", null, new JsonObject().put("email", "jwt-" + System.nanoTime()
        + "@example.com").put("password", "correct horse battery").encode()).json();
    String token = signUp.getJsonObject("tokens").getString("access_token");
    ApiClient.Response submitted = api.post("/v1/generations", token, "{\"model\":\"sd-1.5\",\"prompt\":\"jwt\"}");
    assertThat(submitted.status()).isEqualTo(202);
    String id = submitted.json().getString("id");
    assertThat(harness.count("SELECT count(*) FROM generation.jobs WHERE id = '" + id + "' AND tier = 'free' "
        + "AND user_id = '" + signUp.getJsonObject("user").getString("id") + "'")).isOne();
    assertThat(api.get("/v1/generations/" + id, token).status()).isEqualTo(200);
  }

  @Test
  void aRevokedApiKeyStopsWorkingAtOnce() {
    JsonObject signUp = users.post("/v1/users", null, new JsonObject().put("email", "revoke-" + System.nanoTime()
        + "@example.com").put("password", "correct horse battery").encode()).json();
    String token = signUp.getJsonObject("tokens").getString("access_token");
    JsonObject created = users.post("/v1/api-keys", token, "{\"name\":\"soon revoked\"}").json();
    String key = created.getString("key");
    assertThat(api.get("/v1/generations", key).status()).isEqualTo(200);
    assertThat(users.send("DELETE", "/v1/api-keys/" + created.getString("id"), token).status()).isEqualTo(204);
    ApiClient.Response after = api.get("/v1/generations", key);
    assertThat(after.status()).isEqualTo(401);
    assertThat(api.post("/v1/generations", key, "{\"model\":\"sd-1.5\",\"prompt\":\"x\"}").status()).isEqualTo(401);
  }
}
