package ai.pingvas.platform.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
 * since only requests are validated.
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
    return json;
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
