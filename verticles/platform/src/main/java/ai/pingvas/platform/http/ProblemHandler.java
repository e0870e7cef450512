package ai.pingvas.platform.http;

import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    Throwable cause = failure;
    for (int depth = 0; cause != null && depth < 5; depth++, cause = cause.getCause()) {
      if (cause instanceof ApiException || cause instanceof ValidatorException || cause instanceof DecodeException) {
        failure = cause;
        break;
      }
    }
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof SchemaValidationException schema) {
      return fromSchema(schema);
    }
    if (failure instanceof ValidatorException validator) {
      if (validator.type() == ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT && validator.getMessage() != null
          && validator.getMessage().contains("body is not supported")) {
        // the body's Content-Type is none the operation takes: 415, as the generation API answers it
        return fromStatus(415, null);
      }
      return ApiException.validation(validatorDetail(validator), null);
    }
    if (failure instanceof DecodeException) {
      return ApiException.badRequest("malformed_json", "request body is not valid JSON");
    }
    if (failure instanceof HttpException http) {
      return fromStatus(http.getStatusCode(), http.getPayload());
    }
    if (dependencyDown(failure)) {
      return ApiException.unavailable("dependency_unavailable",
          "a backing service (database or broker) is unreachable; retry shortly", 2);
    }
    if (failure == null && statusCode >= 400) {
      return fromStatus(statusCode, null);
    }
    return ApiException.of(500, "internal_error", "Internal error",
        "the server failed to handle this request; it has been logged");
  }

  /** Connection-level failures of a dependency: the request may succeed later, so 503, not 500. */
  static boolean dependencyDown(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String name = t.getClass().getName();
      if (t instanceof java.net.ConnectException || name.endsWith("ClosedConnectionException")
          || name.endsWith("ConnectTimeoutException") || name.endsWith("NoStackTraceTimeoutException")
          || name.endsWith("PoolClosedException")) {
        return true;
      }
      if (t instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null
          && (pg.getSqlState().startsWith("08") || pg.getSqlState().startsWith("57P"))) {
        return true;
      }
      String message = t.getMessage();
      if (message != null && (message.contains("Connection refused") || message.contains("Timeout")
          && message.contains("connection"))) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
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

  private static final Pattern REQUIRED = Pattern.compile("does not have required property \"(.+)\"");

  /**
   * Turns the validator's output into one error per field, most specific message first:
   * {@code /width: 100 is not a multiple of 8}, {@code /style: unknown field, not allowed}.
   */
  private static ApiException fromSchema(SchemaValidationException e) {
    Matcher parameter = e.getMessage() == null ? null : PARAMETER.matcher(e.getMessage());
    if (parameter != null && parameter.find()) {
      return fromParameter(parameter.group(1).toLowerCase(Locale.ROOT), parameter.group(2), e.getOutputUnit());
    }
    ApiException mapped = fromOutput(e.getOutputUnit());
    if (mapped.errors() == null || mapped.errors().isEmpty()) {
      return ApiException.validation(isMissingBody(e) ? "a JSON request body is required" : e.getMessage(), null);
    }
    return mapped;
  }

  private static final Pattern PARAMETER = Pattern.compile("^The value of (\\w+) parameter (\\S+) is invalid");

  /**
   * A path, query or header parameter that broke its schema, named as such: {@code path parameter
   * id: must be a UUID ...}, not {@code /: String does not match pattern}.
   */
  private static ApiException fromParameter(String in, String name, OutputUnit output) {
    // the value's errors as a body field's would read (its pointer is "/"), named by the parameter
    JsonArray errors = fromOutput(output).errors();
    List<String> reasons = new ArrayList<>();
    if (errors != null) {
      for (int i = 0; i < errors.size(); i++) {
        String detail = errors.getJsonObject(i).getString("detail");
        if (!reasons.contains(detail)) {
          reasons.add(detail);
        }
      }
    }
    String reason = reasons.isEmpty() ? "is invalid" : String.join("; ", reasons);
    String pointer = in + " parameter " + name;
    return ApiException.validation(pointer + ": " + reason,
        new JsonArray().add(new JsonObject().put("pointer", name).put("in", in).put("detail", reason)));
  }

  /** Maps a schema validator's output to one validation problem with an entry per field. */
  static ApiException fromOutput(OutputUnit output) {
    List<OutputUnit> leaves = new ArrayList<>();
    collectLeaves(output, leaves);
    java.util.Map<String, List<String>> specific = new java.util.LinkedHashMap<>();
    java.util.Map<String, String> generic = new java.util.LinkedHashMap<>();
    for (OutputUnit unit : leaves) {
      String pointer = pointer(unit.getInstanceLocation());
      String message = unit.getError();
      Matcher required = REQUIRED.matcher(message);
      if (required.find()) {
        specific.computeIfAbsent(pointer.equals("/") ? "/" + required.group(1) : pointer + "/" + required.group(1),
            k -> new ArrayList<>()).add("is required");
      } else if (message.contains("does not match additional properties schema")) {
        generic.putIfAbsent(pointer, "unknown field, not allowed");
      } else if (message.contains("does not match schema")) {
        generic.putIfAbsent(pointer, "is invalid");
      } else {
        specific.computeIfAbsent(pointer, k -> new ArrayList<>()).add(message);
      }
    }
    JsonArray errors = new JsonArray();
    specific.forEach((pointer, messages) -> messages.stream().distinct()
        .forEach(m -> errors.add(new JsonObject().put("pointer", pointer).put("detail", m))));
    generic.forEach((pointer, message) -> {
      if (!specific.containsKey(pointer)) {
        errors.add(new JsonObject().put("pointer", pointer).put("detail", message));
      }
    });
    if (errors.isEmpty()) {
      return ApiException.validation("the request does not match the API contract", null);
    }
    StringBuilder detail = new StringBuilder();
    for (int i = 0; i < errors.size(); i++) {
      JsonObject error = errors.getJsonObject(i);
      detail.append(i == 0 ? "" : "; ").append(error.getString("pointer")).append(": ")
          .append(error.getString("detail"));
    }
    return ApiException.validation(detail.toString(), errors);
  }

  private static String pointer(String instanceLocation) {
    if (instanceLocation == null || instanceLocation.isEmpty() || instanceLocation.equals("#")) {
      return "/";
    }
    return instanceLocation.startsWith("#") ? instanceLocation.substring(1) : instanceLocation;
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
