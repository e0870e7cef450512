package ai.pingvas.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Loads a service's OpenAPI document from the classpath: the text is served as written, and the
 * validator gets a copy without response media types it cannot handle (application/problem+json),
 * since only requests are validated, and with two of its string rules held to what the document
 * means (see {@link #strictStrings}).
 */
public final class Contracts {
  private static final Set<String> VALIDATOR_MEDIA_TYPES = Set.of("application/json", "text/plain",
      "application/octet-stream", "multipart/form-data");

  private Contracts() {
  }

  /** A loaded contract: the validator's model and the document as published. */
  public record Loaded(OpenAPIContract contract, Buffer text) {
  }

  /** The builder's route of an operation; a contract without it is a build error, not a 404 at run time. */
  public static OpenAPIRoute route(RouterBuilder api, String operationId) {
    OpenAPIRoute route = api.getRoute(operationId);
    if (route == null) {
      throw new IllegalStateException("operation " + operationId + " is missing from the contract");
    }
    return route;
  }

  public static Future<Loaded> load(Vertx vertx, String resource) {
    return vertx.fileSystem().readFile(resource).compose(text -> vertx.executeBlocking(() -> toJson(text), false)
        .compose(json -> OpenAPIContract.from(vertx, json))
        .map(contract -> new Loaded(contract, text)));
  }

  @SuppressWarnings("unchecked")
  private static JsonObject toJson(Buffer text) {
    Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(text.toString());
    JsonObject json = JsonObject.mapFrom(tree instanceof Map ? tree : Map.of());
    json = new JsonObject(json.encode());
    stripResponseMedia(json);
    strictStrings(json);
    return json;
  }

  /** The canonical text of a UUID, the form every service stores and compares. */
  static final String UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\z";

  /**
   * The validator runs patterns through Java's {@code find()}, where a final {@code $} also matches
   * before a trailing line break (ECMA-262's, which JSON Schema means, does not): a model name
   * {@code "sdxl\n"} passed {@code ^[A-Za-z0-9._-]*$} and later broke the Location header built
   * from it. A final {@code $} becomes {@code \z}, the end of the input. And its {@code uuid} format
   * also takes {@code urn:uuid:}-prefixed ids, which {@code UUID.fromString} then refused with a
   * 500: a string of format uuid must also be the 36-character form. Its email format threw on an
   * empty string (see below).
   */
  static void strictStrings(JsonObject node) {
    for (String key : Set.copyOf(node.fieldNames())) {
      Object value = node.getValue(key);
      if (value instanceof JsonObject child) {
        strictStrings(child);
      } else if (value instanceof JsonArray array) {
        for (Object item : array) {
          if (item instanceof JsonObject child) {
            strictStrings(child);
          }
        }
      }
    }
    if (node.getValue("pattern") instanceof String pattern && pattern.endsWith("$") && !pattern.endsWith("\\$")) {
      node.put("pattern", pattern.substring(0, pattern.length() - 1) + "\\z");
    }
    if ("uuid".equals(node.getValue("format")) && !node.containsKey("pattern")) {
      node.put("pattern", UUID_PATTERN);
    }
    if ("email".equals(node.getValue("format"))) {
      // its email check reads the first character of the string without looking at its length, and
      // every keyword runs, so "" threw (a 500) whatever minLength said: check the format only on a
      // non-empty string (the empty one fails minLength, or passes, as the schema says)
      node.remove("format");
      JsonArray all = node.getValue("allOf") instanceof JsonArray a ? a : new JsonArray();
      all.add(new JsonObject().put("if", new JsonObject().put("minLength", 1))
          .put("then", new JsonObject().put("format", "email")));
      node.put("allOf", all);
    }
  }

  private static void stripResponseMedia(JsonObject node) {
    for (String key : Set.copyOf(node.fieldNames())) {
      Object value = node.getValue(key);
      if (value instanceof JsonObject child) {
        if (key.equals("responses")) {
          for (String code : child.fieldNames()) {
            Object response = child.getValue(code);
            if (response instanceof JsonObject r && r.getValue("content") instanceof JsonObject content) {
              content.fieldNames().removeIf(media -> !VALIDATOR_MEDIA_TYPES.contains(media));
              if (content.isEmpty()) {
                r.remove("content");
              }
            }
          }
        }
        stripResponseMedia(child);
      }
    }
  }
}
