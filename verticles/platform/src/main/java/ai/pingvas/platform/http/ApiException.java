package ai.pingvas.platform.http;

import io.vertx.core.json.JsonArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A failure with a stable machine-readable code that the problem+json mapper turns into a 4xx/5xx
 * response. Services fail futures with it; they never write error responses by hand.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final String title;
  private final JsonArray errors;
  private final Map<String, String> headers;

  private ApiException(int status, String code, String title, String detail, JsonArray errors,
      Map<String, String> headers) {
    super(detail, null, false, false);
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = errors;
    this.headers = headers;
  }

  public static ApiException of(int status, String code, String title, String detail) {
    return new ApiException(status, code, title, detail, null, Map.of());
  }

  public static ApiException badRequest(String code, String detail) {
    return of(400, code, "Bad request", detail);
  }

  public static ApiException validation(String detail, JsonArray errors) {
    return new ApiException(400, "validation_failed", "Request validation failed", detail, errors, Map.of());
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(401, "unauthorized", "Authentication required", detail, null,
        Map.of("WWW-Authenticate", "Bearer realm=\"pingvas\""));
  }

  public static ApiException forbidden(String detail) {
    return of(403, "forbidden", "Forbidden", detail);
  }

  public static ApiException notFound(String what) {
    return of(404, "not_found", "Not found", what);
  }

  public static ApiException conflict(String code, String detail) {
    return of(409, code, "Conflict", detail);
  }

  public static ApiException unprocessable(String code, String detail) {
    return of(422, code, "Unprocessable request", detail);
  }

  public static ApiException tooManyRequests(String code, String detail, long retryAfterSeconds) {
    return new ApiException(429, code, "Too many requests", detail, null,
        Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
  }

  public static ApiException unavailable(String code, String detail, long retryAfterSeconds) {
    return new ApiException(503, code, "Service unavailable", detail, null,
        Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
  }

  /** The same problem with one more response header. */
  public ApiException withHeader(String name, String value) {
    Map<String, String> more = new LinkedHashMap<>(headers);
    more.put(name, value);
    return new ApiException(status, code, title, getMessage(), errors, Map.copyOf(more));
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return getMessage();
  }

  public JsonArray errors() {
    return errors;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
