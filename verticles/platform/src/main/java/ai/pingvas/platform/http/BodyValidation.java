package ai.pingvas.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;

/**
 * Validates a hot route's JSON body against the operation's schema from the OpenAPI contract with
 * a validator built once. The generic request validator builds a new schema validator (copying the
 * contract's whole schema lookup) on every request, which dominated the submit path's CPU; the
 * schema and the error format are the same. A body the quick check ({@link FastSchemaCheck}) finds
 * certainly valid skips even that; any other goes through it. The parsed body is kept for the handler.
 */
public final class BodyValidation implements Handler<RoutingContext> {
  private static final String KEY = "pingvas.body";
  private final Validator validator;
  /** Certainly-valid bodies skip the full validator (null: the schema is beyond the quick check). */
  private final FastSchemaCheck quick;

  private BodyValidation(Validator validator, FastSchemaCheck quick) {
    this.validator = validator;
    this.quick = quick;
  }

  /** A validator for {@code application/json} bodies of the operation. */
  public static BodyValidation of(OpenAPIContract contract, String operationId) {
    Operation operation = contract.operation(operationId);
    MediaType json = operation.getRequestBody().getContent().get("application/json");
    JsonObject raw = contract.getRawContract();
    return new BodyValidation(contract.getSchemaRepository().validator(json.getSchema()),
        FastSchemaCheck.compile(schemaJson(json.getSchema()), ref -> pointer(raw, ref)));
  }

  /** Whether certainly-valid bodies skip the full validator (the schema is within the quick check's keywords). */
  public boolean hasQuickCheck() {
    return quick != null;
  }

  /** The quick check's verdict alone: true only for a body it is sure of (tests compare it with {@link #fullyValid}). */
  public boolean quicklyValid(JsonObject body) {
    return quick != null && quick.certainlyValid(body);
  }

  /** The full validator's verdict. */
  public boolean fullyValid(JsonObject body) {
    return validator.validate(body).getValid();
  }

  private static JsonObject schemaJson(JsonSchema schema) {
    JsonObject json = new JsonObject();
    for (String key : schema.fieldNames()) {
      json.put(key, schema.<Object>get(key));
    }
    return json;
  }

  /** A local JSON pointer reference ({@code #/components/schemas/X}) into the contract, or null. */
  private static JsonObject pointer(JsonObject root, String ref) {
    if (!ref.startsWith("#/")) {
      return null;
    }
    Object at = root;
    for (String token : ref.substring(2).split("/", -1)) {
      String key = token.replace("~1", "/").replace("~0", "~");
      at = at instanceof JsonObject o ? o.getValue(key) : null;
    }
    return at instanceof JsonObject o ? o : null;
  }

  @Override
  public void handle(RoutingContext ctx) {
    JsonObject body;
    try {
      String type = ctx.request().getHeader("Content-Type");
      if (type != null && !type.toLowerCase().startsWith("application/json")) {
        ctx.fail(ApiException.of(415, "unsupported_media_type", "Unsupported media type",
            "send the body as application/json"));
        return;
      }
      if (ctx.body().buffer() == null || ctx.body().length() <= 0) {
        ctx.fail(ApiException.validation("a JSON request body is required", null));
        return;
      }
      Object parsed = io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
      if (!(parsed instanceof JsonObject object)) {
        ctx.fail(ApiException.validation("/: the request body must be a JSON object", null));
        return;
      }
      body = object;
    } catch (DecodeException e) {
      ctx.fail(ApiException.badRequest("malformed_json", "request body is not valid JSON"));
      return;
    }
    if (quick == null || !quick.certainlyValid(body)) {
      OutputUnit result = validator.validate(body);
      if (!result.getValid()) {
        ctx.fail(ProblemHandler.fromOutput(result));
        return;
      }
    }
    ctx.put(KEY, body);
    ctx.next();
  }

  /** The body this handler parsed and validated. */
  public static JsonObject body(RoutingContext ctx) {
    JsonObject body = ctx.get(KEY);
    return body != null ? body : ctx.body().asJsonObject();
  }
}
