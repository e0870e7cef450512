package ai.pingvas.models;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.models.Stack.Response;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry API: anyone reads, admins write, and the contract validates what they write. */
class ModelRegistryIT {
  private static Stack stack;
  private static String admin;
  private static String user;

  @BeforeAll
  static void start() {
    stack = new Stack("registry").startRouter().startModels();
    admin = stack.createUser("studio", true);
    user = stack.createUser("free", false);
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  static String model(String name, String kind, String base) {
    return new JsonObject().put("name", name).put("kind", kind).put("base", base).put("size_mb", 2034)
        .put("vram_mb", 3500).put("source", "s3://pingvas-models/" + name + ".safetensors")
        .put("sha256", "a".repeat(64)).put("default_params", new JsonObject().put("steps", 25)).encode();
  }

  @Test
  void adminRegistersUpdatesAndDeletesAModel() {
    Response created = stack.models("POST", "/v1/models", admin, stack.model("reg-a", "checkpoint", "sd-1.5"));
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().getString("kind")).isEqualTo("checkpoint");
    assertThat(created.json().getJsonObject("default_params").getInteger("steps")).isEqualTo(25);

    JsonObject changed = new JsonObject(stack.model("reg-a", "checkpoint", "sd-1.5")).put("vram_mb", 4000);
    changed.remove("name");
    Response updated = stack.models("PUT", "/v1/models/reg-a", admin, changed.encode());
    assertThat(updated.status()).isEqualTo(200);
    assertThat(updated.json().getInteger("vram_mb")).isEqualTo(4000);

    Response fetched = stack.models("GET", "/v1/models/reg-a", user, null);
    assertThat(fetched.status()).isEqualTo(200);
    assertThat(fetched.json().getInteger("vram_mb")).isEqualTo(4000);
    assertThat(fetched.json().getJsonArray("workers")).isEmpty();

    assertThat(stack.models("DELETE", "/v1/models/reg-a", admin, null).status()).isEqualTo(204);
    assertThat(stack.models("GET", "/v1/models/reg-a", user, null).status()).isEqualTo(404);
    assertThat(stack.models("DELETE", "/v1/models/reg-a", admin, null).status()).isEqualTo(404);
  }

  @Test
  void anyUserListsAndFiltersButOnlyAdminsWrite() {
    stack.models("POST", "/v1/models", admin, stack.model("list-ckpt", "checkpoint", "sdxl"));
    stack.models("POST", "/v1/models", admin, stack.model("list-lora", "lora", "sdxl"));

    Response loras = stack.models("GET", "/v1/models?kind=lora&base=sdxl", user, null);
    assertThat(loras.status()).isEqualTo(200);
    List<String> names = loras.json().getJsonArray("items").stream()
        .map(o -> ((JsonObject) o).getString("name")).toList();
    assertThat(names).contains("list-lora").doesNotContain("list-ckpt");

    Response refused = stack.models("POST", "/v1/models", user, stack.model("by-user", "checkpoint", "sd-1.5"));
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.json().getString("code")).isEqualTo("forbidden");
    assertThat(stack.models("DELETE", "/v1/models/list-ckpt", user, null).status()).isEqualTo(403);
    assertThat(stack.models("GET", "/v1/models", null, null).status()).isEqualTo(401);
  }

  @Test
  void refusesADuplicateNameAndAnInvalidDescription() {
    assertThat(stack.models("POST", "/v1/models", admin, stack.model("dup", "checkpoint", "sd-1.5")).status())
        .isEqualTo(201);
    Response duplicate = stack.models("POST", "/v1/models", admin, stack.model("dup", "checkpoint", "sd-1.5"));
    assertThat(duplicate.status()).isEqualTo(409);
    assertThat(duplicate.json().getString("code")).isEqualTo("model_exists");

    String badKind = new JsonObject(stack.model("bad", "checkpoint", "sd-1.5")).put("kind", "vae").encode();
    Response invalid = stack.models("POST", "/v1/models", admin, badKind);
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.json().getString("code")).isEqualTo("validation_failed");
    String badSource = new JsonObject(stack.model("bad", "checkpoint", "sd-1.5")).put("source", "http://x/y").encode();
    assertThat(stack.models("POST", "/v1/models", admin, badSource).status()).isEqualTo(400);
    // a name pattern ends at the end of the name: a trailing line break is refused, not stored (it
    // used to pass the check, be stored, and then break the Location header, leaving the request unanswered)
    String newline = new JsonObject(stack.model("bad", "checkpoint", "sd-1.5")).put("name", "sdxl-nl\n").encode();
    Response trailing = stack.models("POST", "/v1/models", admin, newline);
    assertThat(trailing.status()).as(trailing.body()).isEqualTo(400);
    assertThat(trailing.json().getString("detail")).contains("/name");
    assertThat(stack.models("GET", "/v1/models/sdxl-nl", admin, null).status()).isEqualTo(404);
  }

  /**
   * A model whose weights are not at its source would be offered to users and fail every job on it
   * when a worker tries to install it: registering it, or moving an existing one to such a source,
   * is refused with a 422 naming the source, and nothing is stored.
   */
  @Test
  void aSourceWithoutWeightsIsRefusedAndNothingIsStored() {
    Response missing = stack.models("POST", "/v1/models", admin, ModelRegistryIT.model("no-weights", "checkpoint",
        "sdxl"));
    assertThat(missing.status()).as(missing.body()).isEqualTo(422);
    assertThat(missing.json().getString("code")).isEqualTo("model_source_missing");
    assertThat(missing.json().getString("detail")).contains("s3://pingvas-models/no-weights.safetensors");
    assertThat(stack.models("GET", "/v1/models/no-weights", user, null).status()).isEqualTo(404);

    String otherBucket = new JsonObject(ModelRegistryIT.model("elsewhere", "lora", "sdxl"))
        .put("source", "s3://no-such-bucket-here/elsewhere.safetensors").encode();
    Response noBucket = stack.models("POST", "/v1/models", admin, otherBucket);
    assertThat(noBucket.status()).as(noBucket.body()).isEqualTo(422);
    assertThat(noBucket.json().getString("code")).isEqualTo("model_source_missing");

    assertThat(stack.models("POST", "/v1/models", admin, stack.model("moved", "checkpoint", "sdxl")).status())
        .isEqualTo(201);
    JsonObject moved = new JsonObject(ModelRegistryIT.model("moved", "checkpoint", "sdxl"))
        .put("source", "s3://pingvas-models/typo/moved.safetensors").put("vram_mb", 9999);
    Response refused = stack.models("PUT", "/v1/models/moved", admin, moved.encode());
    assertThat(refused.status()).as(refused.body()).isEqualTo(422);
    assertThat(refused.json().getString("detail")).contains("s3://pingvas-models/typo/moved.safetensors");
    JsonObject kept = stack.models("GET", "/v1/models/moved", user, null).json();
    assertThat(kept.getString("source")).isEqualTo("s3://pingvas-models/moved.safetensors");
    assertThat(kept.getInteger("vram_mb")).isEqualTo(3500);
    // an unknown name stays a 404, a taken one a 409, whatever their sources
    assertThat(stack.models("PUT", "/v1/models/never-registered", admin,
        ModelRegistryIT.model("never-registered", "lora", "sdxl")).status()).isEqualTo(404);
    String takenElsewhere = new JsonObject(ModelRegistryIT.model("moved", "checkpoint", "sdxl"))
        .put("source", "s3://pingvas-models/nothing-here.safetensors").encode();
    Response taken = stack.models("POST", "/v1/models", admin, takenElsewhere);
    assertThat(taken.status()).as(taken.body()).isEqualTo(409);
    assertThat(taken.json().getString("code")).isEqualTo("model_exists");
  }

  /**
   * Editing a model's metadata keeps its source: the weights are not looked at again, so an edit
   * works while they are being replaced (or S3 is away); moving it to another source is checked.
   */
  @Test
  void aChangeThatKeepsTheSourceIsNotCheckedAgain() throws Exception {
    assertThat(stack.models("POST", "/v1/models", admin, stack.model("edited", "lora", "sdxl")).status())
        .isEqualTo(201);
    ai.pingvas.worker.engine.invokeai.ModelObjects.delete(stack.infra.s3().endpoint(), "pingvas-models",
        "edited.safetensors");
    JsonObject edit = new JsonObject(ModelRegistryIT.model("edited", "lora", "sdxl")).put("vram_mb", 1200);
    Response edited = stack.models("PUT", "/v1/models/edited", admin, edit.encode());
    assertThat(edited.status()).as(edited.body()).isEqualTo(200);
    assertThat(edited.json().getInteger("vram_mb")).isEqualTo(1200);
  }

  @Test
  void servesItsOpenApiContract() {
    Response contract = stack.models("GET", "/openapi.yaml", null, null);
    assertThat(contract.status()).isEqualTo(200);
    assertThat(contract.body()).contains("openapi: 3.1.0").contains("operationId: createModel");
  }
}
