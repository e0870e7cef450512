package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.http.BodyValidation;
import ai.pingvas.platform.http.Contracts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The submit body's quick check never accepts what the contract's full JSON Schema validator
 * refuses, and does accept the bodies clients send (or it would save nothing): both verdicts on
 * thousands of bodies made from valid and invalid values of every field.
 */
class SubmitBodyValidationTest {
  private static Vertx vertx;
  private static BodyValidation validation;

  @BeforeAll
  static void load() {
    vertx = Vertx.vertx();
    Contracts.Loaded loaded = Contracts.load(vertx, "openapi/generation.yaml").await();
    validation = BodyValidation.of(loaded.contract(), "submitGeneration");
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  @Test
  void theSubmitSchemaIsWithinTheQuickCheck() {
    assertThat(validation.hasQuickCheck()).isTrue();
    JsonObject typical = new JsonObject().put("model", "sdxl").put("prompt", "a fox in the snow").put("width", 1024)
        .put("height", 768).put("steps", 30).put("cfg_scale", 6.5).put("seed", 42).put("scheduler", "euler_a")
        .put("loras", new JsonArray().add(new JsonObject().put("name", "pixel-art").put("weight", 0.8)))
        .put("count", 2).put("priority", 1).put("negative_prompt", "blurry");
    assertThat(validation.fullyValid(typical)).isTrue();
    assertThat(validation.quicklyValid(typical)).isTrue();
    assertThat(validation.quicklyValid(new JsonObject().put("model", "sdxl").put("prompt", "minimal"))).isTrue();
  }

  @Test
  void neverAcceptsWhatTheFullValidatorRefuses() {
    Random random = new Random(1234);
    int fullyValid = 0;
    int quicklyValid = 0;
    int invalid = 0;
    for (int i = 0; i < 20_000; i++) {
      JsonObject body = body(random);
      boolean full = validation.fullyValid(body);
      boolean quick = validation.quicklyValid(body);
      if (quick) {
        assertThat(full).as("quick check accepted what the schema refuses: %s", body.encode()).isTrue();
      }
      fullyValid += full ? 1 : 0;
      quicklyValid += quick ? 1 : 0;
      invalid += full ? 0 : 1;
    }
    System.out.printf("submit bodies: %d valid (%d of them quickly), %d invalid%n", fullyValid, quicklyValid, invalid);
    // both kinds were generated plentifully, and most valid bodies take the quick path
    assertThat(invalid).isGreaterThan(5_000);
    assertThat(fullyValid).isGreaterThan(2_000);
    assertThat(quicklyValid).isGreaterThan(fullyValid * 8 / 10);
  }

  private static final String[] FIELDS = {"model", "prompt", "negative_prompt", "width", "height", "steps",
      "cfg_scale", "seed", "scheduler", "loras", "count", "priority"};

  /** A body whose fields are each left out, valid, or drawn from the edge and invalid values of its kind. */
  private static JsonObject body(Random random) {
    JsonObject body = new JsonObject();
    for (String field : FIELDS) {
      boolean required = field.equals("model") || field.equals("prompt");
      int roll = random.nextInt(100);
      if (roll < (required ? 2 : 40)) {
        continue; // left out
      }
      List<Object> pool = roll < 90 ? valid(field) : invalid(field);
      body.put(field, pool.get(random.nextInt(pool.size())));
    }
    if (random.nextInt(50) == 0) {
      body.put(random.nextBoolean() ? "modle" : "__proto__", "x");
    }
    return body;
  }

  private static List<Object> valid(String field) {
    return switch (field) {
      case "model" -> List.of("sdxl", "sd-1.5", "A", "m".repeat(128), "flux.1_dev-fp8");
      case "prompt", "negative_prompt" -> List.of("a fox", "p", "x".repeat(10_000), "ünïcödé prompt", "line\nbreak");
      case "width", "height" -> List.of(64, 512, 1024, 2048, 1000);
      case "steps" -> List.of(1, 30, 150);
      case "cfg_scale" -> List.of(0, 7, 6.5, 30, 29.99);
      case "seed" -> List.of(0, 42, 4294967295L, 2147483647);
      case "scheduler" -> List.of("euler", "euler_a", "dpmpp_2m_sde_k", "tcd");
      case "loras" -> List.of(new JsonArray(), new JsonArray().add(lora("pixel-art", 0.8)),
          new JsonArray().add(lora("a", -2)).add(lora("b", 2)).add(lora("c", 0)),
          loras(8));
      case "count" -> List.of(1, 4, 8);
      case "priority" -> List.of(-10, 0, 10);
      default -> throw new IllegalArgumentException(field);
    };
  }

  private static List<Object> invalid(String field) {
    List<Object> common = new ArrayList<>(List.of(true, new JsonObject(), new JsonArray()));
    common.add(null);
    switch (field) {
      case "model" -> common.addAll(List.of("", "-leading", "has space", "m".repeat(129), "ünï", 5, "a/b", "sdxl\n", "\nsdxl"));
      case "prompt", "negative_prompt" -> common.addAll(List.of("x".repeat(10_001), 7, "😀".repeat(5_001)));
      case "width", "height" -> common.addAll(List.of(63, 56, 2056, 513, 512.0, 512.5, "512", -8, 0));
      case "steps" -> common.addAll(List.of(0, 151, 30.0, 1.5, "30", -1));
      case "cfg_scale" -> common.addAll(List.of(-0.1, 30.01, "7", 31));
      case "seed" -> common.addAll(List.of(-1, 4294967296L, 1.5, 42.0, "42", Long.MAX_VALUE));
      case "scheduler" -> common.addAll(List.of("Euler", "", "euler ", 3));
      case "loras" -> common.addAll(List.of(loras(9), new JsonArray().add("pixel-art"),
          new JsonArray().add(lora("", 1)), new JsonArray().add(lora("ok", 2.5)),
          new JsonArray().add(new JsonObject().put("name", "ok")),
          new JsonArray().add(lora("ok", 1).put("extra", 1)), new JsonArray().add(lora("ok", "1"))));
      case "count" -> common.addAll(List.of(0, 9, 2.0, "2"));
      case "priority" -> common.addAll(List.of(-11, 11, 0.5, "1"));
      default -> throw new IllegalArgumentException(field);
    }
    return common;
  }

  private static JsonObject lora(String name, Object weight) {
    return new JsonObject().put("name", name).put("weight", weight);
  }

  private static JsonArray loras(int n) {
    JsonArray array = new JsonArray();
    for (int i = 0; i < n; i++) {
      array.add(lora("lora-" + i, 1));
    }
    return array;
  }
}
