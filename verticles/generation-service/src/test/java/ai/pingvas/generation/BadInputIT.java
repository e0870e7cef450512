package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind of bad submission gets a clear 4xx problem naming what is wrong, and writes nothing. */
class BadInputIT {
  private static RouterHarness harness;
  private static ApiClient api;
  private static String key;

  @BeforeAll
  static void start() {
    harness = new RouterHarness("badinput");
    harness.startRouter().toCompletionStage().toCompletableFuture().join();
    api = new ApiClient(harness.baseUrl());
    key = harness.createUser("free");
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @AfterEach
  void nothingWasWritten() {
    assertThat(harness.count("SELECT count(*) FROM generation.jobs")).isZero();
    assertThat(harness.count("SELECT count(*) FROM generation.outbox")).isZero();
  }

  private static JsonObject problem(ApiClient.Response response, int status) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.contentType()).startsWith("application/problem+json");
    JsonObject problem = response.json();
    assertThat(problem.getInteger("status")).isEqualTo(status);
    assertThat(problem.getString("type")).startsWith("https://pingvas.ai/problems/");
    assertThat(problem.getString("title")).isNotBlank();
    return problem;
  }

  private static JsonObject invalid(String body, String pointer, String mention) {
    JsonObject p = problem(api.post("/v1/generations", key, body), 400);
    assertThat(p.getString("code")).isEqualTo("validation_failed");
    assertThat(p.getString("detail")).contains(pointer).containsIgnoringCase(mention);
    return p;
  }

  @Test
  void rejectsMalformedJsonWith400() {
    JsonObject p = problem(api.post("/v1/generations", key, "{\"model\": \"sd-1.5\", \"prompt\": "), 400);
    assertThat(p.getString("code")).isIn("malformed_json", "validation_failed");
  }

  @Test
  void rejectsWrongTypesWith400() {
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"width\": \"wide\"}", "/width", "integer");
    invalid("{\"model\": 42, \"prompt\": \"cat\"}", "/model", "string");
  }

  @Test
  void rejectsOversizedPromptWith400() {
    invalid(new JsonObject().put("model", "sd-1.5").put("prompt", "a".repeat(10_001)).encode(), "/prompt", "10000");
  }

  @Test
  void rejectsDimensionsThatAreNotMultiplesOf8OrOutOfRange() {
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"width\": 100}", "/width", "multiple");
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"height\": 4096}", "/height", "2048");
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"height\": 56}", "/height", "64");
  }

  @Test
  void rejectsCountOver8() {
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"count\": 9}", "/count", "8");
  }

  @Test
  void rejectsUnknownFieldsNamingThem() {
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"style\": \"noir\"}", "/style", "not allowed");
  }

  @Test
  void rejectsMissingRequiredFields() {
    invalid("{\"model\": \"sd-1.5\"}", "/prompt", "required");
  }

  @Test
  void rejectsBodiesThatAreNotAJsonObject() {
    assertThat(invalid("[1, 2]", "/", "object").getString("code")).isEqualTo("validation_failed");
    assertThat(problem(api.post("/v1/generations", key, ""), 400).getString("detail")).contains("body is required");
  }

  @Test
  void rejectsOtherMediaTypesWith415() {
    JsonObject p = problem(api.post("/v1/generations", key, "model=sd-1.5&prompt=cat",
        "Content-Type", "application/x-www-form-urlencoded"), 415);
    assertThat(p.getString("detail")).contains("application/json");
  }

  @Test
  void rejectsOverlongIdempotencyKeys() {
    JsonObject p = problem(api.post("/v1/generations", key, "{\"model\": \"sd-1.5\", \"prompt\": \"cat\"}",
        "Idempotency-Key", "k".repeat(256)), 400);
    assertThat(p.getString("detail")).contains("Idempotency-Key");
  }

  @Test
  void rejectsBodiesOver1MiBWith413() {
    String huge = new JsonObject().put("model", "sd-1.5").put("prompt", "x".repeat(1_100_000)).encode();
    JsonObject p = problem(api.post("/v1/generations", key, huge), 413);
    assertThat(p.getString("code")).isEqualTo("payload_too_large");
  }

  @Test
  void rejectsInvalidUtf8With400() {
    byte[] head = "{\"model\": \"sd-1.5\", \"prompt\": \"caf".getBytes(StandardCharsets.UTF_8);
    byte[] tail = "\"}".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[head.length + 2 + tail.length];
    System.arraycopy(head, 0, body, 0, head.length);
    body[head.length] = (byte) 0xC3;
    body[head.length + 1] = (byte) 0x28;
    System.arraycopy(tail, 0, body, head.length + 2, tail.length);
    JsonObject p = problem(api.postBytes("/v1/generations", key, body), 400);
    assertThat(p.getString("code")).isEqualTo("invalid_utf8");
  }

  @Test
  void rejectsTheNulCharacterNamingTheField() {
    // Postgres text and jsonb cannot hold NUL: stored, it would fail the whole batch of submissions
    JsonObject p = invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\\u0000dog\"}", "/prompt", "NUL");
    assertThat(p.getString("detail")).isEqualTo("/prompt: must not contain the NUL character (U+0000)");
    invalid("{\"model\": \"sd-1.5\", \"prompt\": \"cat\", \"negative_prompt\": \"\\u0000\"}",
        "/negative_prompt", "NUL");
    assertThat(problem(api.get("/v1/generations?cursor=%00", key), 400).getString("code")).isEqualTo("invalid_uri");
  }

  @Test
  void rejectsMissingOrWrongApiKeyWith401() {
    String body = "{\"model\": \"sd-1.5\", \"prompt\": \"cat\"}";
    ApiClient.Response missing = api.post("/v1/generations", null, body);
    assertThat(problem(missing, 401).getString("code")).isEqualTo("unauthorized");
    assertThat(missing.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(problem(api.post("/v1/generations", "pv_not_a_key", body), 401).getString("code"))
        .isEqualTo("unauthorized");
    assertThat(problem(api.get("/v1/generations", "pv_not_a_key"), 401).getString("code")).isEqualTo("unauthorized");
  }

  @Test
  void rejectsMalformedIdsAndQueryParameters() {
    JsonObject badId = problem(api.get("/v1/generations/not-a-uuid", key), 400);
    assertThat(badId.getString("code")).isIn("invalid_id", "validation_failed");
    assertThat(badId.getString("detail")).contains("id");
    assertThat(problem(api.get("/v1/generations?limit=0", key), 400).getString("code")).isEqualTo("validation_failed");
    assertThat(problem(api.get("/v1/generations?status=exploded", key), 400).getString("code"))
        .isEqualTo("validation_failed");
    assertThat(problem(api.get("/v1/generations?cursor=abc", key), 400).getString("code")).isEqualTo("invalid_cursor");
  }

  @Test
  void unknownPathsAnswer404Problems() {
    assertThat(problem(api.get("/v1/nothing-here", key), 404).getString("code")).isEqualTo("not_found");
  }
}
