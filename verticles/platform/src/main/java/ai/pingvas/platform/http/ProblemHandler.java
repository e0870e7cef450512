package ai.pingvas.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler of every router: maps whatever failed the request to problem+json.
 * Expected failures are not logged; unexpected ones are logged once, here, with the request id.
 */
public final class ProblemHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(ProblemHandler.class);

  public static ProblemHandler create() {
    return new ProblemHandler();
  }

  @Override
  public void handle(RoutingContext ctx) {
    ApiException problem = toApiException(ctx.failure(), ctx.statusCode());
    if (problem.status() >= 500) {
      LOG.atError().setCause(ctx.failure())
          .addKeyValue("request_id", RequestIds.of(ctx))
          .addKeyValue("method", ctx.request().method().name())
          .addKeyValue("path", ctx.request().path())
          .log("request failed: {}", problem.detail());
    }
    problem.headers().forEach(ctx.response()::putHeader);
    Problem.from(problem, RequestIds.of(ctx)).send(ctx.response());
  }

  /** Maps any failure to an {@link ApiException}; unknown ones become a 500 without internals. */
  public static ApiException toApiException(Throwable failure, int statusCode) {
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof SchemaValidationException schema) {
      return fromSchema(schema);
    }
    if (failure instanceof ValidatorException validator) {
      return ApiException.validation(validatorDetail(validator), null);
    }
    if (failure instanceof DecodeException) {
      return ApiException.badRequest("malformed_json", "request body is not valid JSON");
    }
    if (failure instanceof HttpException http) {
      return fromStatus(http.getStatusCode(), http.getPayload());
    }
    if (failure == null && statusCode >= 400) {
      return fromStatus(statusCode, null);
    }
    return ApiException.of(500, "internal_error", "Internal error",
        "the server failed to handle this request; it has been logged");
  }

  private static ApiException fromStatus(int status, String payload) {
    return switch (status) {
      case 400 -> ApiException.badRequest("bad_request", payload != null ? payload : "the request is malformed");
      case 401 -> ApiException.unauthorized("missing or invalid credentials");
      case 403 -> ApiException.forbidden("not allowed");
      case 404 -> ApiException.notFound("no such resource");
      case 405 -> ApiException.of(405, "method_not_allowed", "Method not allowed",
          "this resource does not support that method");
      case 413 -> ApiException.of(413, "payload_too_large", "Payload too large",
          "the request body exceeds the limit");
      case 415 -> ApiException.of(415, "unsupported_media_type", "Unsupported media type",
          "send the body as application/json");
      default -> status >= 500
          ? ApiException.of(status, "internal_error", "Internal error", "the server failed to handle this request")
          : ApiException.of(status, "bad_request", "Bad request", payload != null ? payload : "request refused");
    };
  }

  private static String validatorDetail(ValidatorException e) {
    return e.getMessage();
  }

  private static ApiException fromSchema(SchemaValidationException e) {
    List<OutputUnit> leaves = new ArrayList<>();
    collectLeaves(e.getOutputUnit(), leaves);
    JsonArray errors = new JsonArray();
    for (OutputUnit unit : leaves) {
      String pointer = unit.getInstanceLocation() == null ? "" : unit.getInstanceLocation();
      errors.add(new JsonObject()
          .put("pointer", pointer.isEmpty() ? "/" : pointer)
          .put("detail", unit.getError()));
    }
    String detail;
    if (errors.isEmpty()) {
      detail = e.getMessage();
    } else {
      JsonObject first = errors.getJsonObject(0);
      detail = first.getString("pointer") + ": " + first.getString("detail");
    }
    if (e.getOutputUnit() != null && isMissingBody(e)) {
      return ApiException.validation("a JSON request body is required", errors);
    }
    return ApiException.validation(detail, errors);
  }

  private static boolean isMissingBody(SchemaValidationException e) {
    return e.type() != null && e.type().name().equals("MISSING_REQUIRED_BODY");
  }

  private static void collectLeaves(OutputUnit unit, List<OutputUnit> out) {
    if (unit == null) {
      return;
    }
    if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
      for (OutputUnit child : unit.getErrors()) {
        collectLeaves(child, out);
      }
    } else if (unit.getError() != null) {
      out.add(unit);
    }
  }
}
