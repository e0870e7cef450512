package ai.pingvas.platform.http;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** An RFC 9457 problem document with our stable {@code code} extension. */
public record Problem(int status, String code, String title, String detail, String instance, JsonArray errors) {
  public static final String CONTENT_TYPE = "application/problem+json";
  public static final String TYPE_BASE = "https://pingvas.ai/problems/";

  public static Problem from(ApiException e, String instance) {
    return new Problem(e.status(), e.code(), e.title(), e.detail(), instance, e.errors());
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("type", TYPE_BASE + code.replace('_', '-'))
        .put("title", title)
        .put("status", status)
        .put("code", code);
    if (detail != null) {
      json.put("detail", detail);
    }
    if (instance != null) {
      json.put("instance", instance);
    }
    if (errors != null && !errors.isEmpty()) {
      json.put("errors", errors);
    }
    return json;
  }

  /** Writes this problem as the whole response. */
  public void send(HttpServerResponse response) {
    if (response.ended() || response.headWritten()) {
      return;
    }
    response.setStatusCode(status)
        .putHeader("Content-Type", CONTENT_TYPE)
        .putHeader("Cache-Control", "no-store")
        .end(toJson().encode());
  }
}
