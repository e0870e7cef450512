package ai.pingvas.platform.auth;

import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Guards {@code /internal/*} routes with the shared service token ({@code X-Internal-Token}). */
public final class InternalAuth implements Handler<RoutingContext> {
  public static final String HEADER = "X-Internal-Token";
  private final byte[] token;

  private InternalAuth(String token) {
    this.token = token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
  }

  public static InternalAuth create(String token) {
    return new InternalAuth(token);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String presented = ctx.request().getHeader(HEADER);
    if (token.length == 0) {
      ctx.fail(ApiException.notFound("internal routes are disabled"));
    } else if (presented == null
        || !MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
      ctx.fail(ApiException.unauthorized("internal route: missing or wrong " + HEADER));
    } else {
      ctx.next();
    }
  }
}
