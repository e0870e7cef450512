package ai.pingvas.platform.http;

import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** Correlates a request across logs and problem documents through {@code X-Request-Id}. */
public final class RequestIds {
  public static final String HEADER = "X-Request-Id";
  private static final String KEY = "pingvas.requestId";

  private RequestIds() {
  }

  /** Takes the caller's request id or makes one, and echoes it on the response. */
  public static void assign(RoutingContext ctx) {
    String id = ctx.request().getHeader(HEADER);
    if (id == null || id.isBlank() || id.length() > 128) {
      id = UUID.randomUUID().toString();
    }
    ctx.put(KEY, id);
    ctx.response().putHeader(HEADER, id);
    ctx.next();
  }

  public static String of(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id != null ? id : ctx.request().getHeader(HEADER);
  }
}
