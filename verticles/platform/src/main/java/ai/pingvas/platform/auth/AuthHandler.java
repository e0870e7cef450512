package ai.pingvas.platform.auth;

import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;

/**
 * Authenticates every request of a route: {@code Authorization: Bearer <credential>}, or the
 * {@code access_token} query parameter where headers cannot be set (browser WebSockets).
 */
public final class AuthHandler implements AuthenticationHandler {
  private static final String KEY = "pingvas.principal";
  private final Authenticator authenticator;

  private AuthHandler(Authenticator authenticator) {
    this.authenticator = authenticator;
  }

  public static AuthHandler create(Authenticator authenticator) {
    return new AuthHandler(authenticator);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String credential = credential(ctx);
    if (credential == null) {
      ctx.fail(ApiException.unauthorized("send 'Authorization: Bearer <api key or token>'"));
      return;
    }
    authenticator.authenticate(credential).onComplete(principal -> {
      ctx.put(KEY, principal);
      ctx.next();
    }, ctx::fail);
  }

  /** The authenticated principal of a request that passed this handler. */
  public static Principal principal(RoutingContext ctx) {
    Principal principal = ctx.get(KEY);
    if (principal == null) {
      throw new IllegalStateException("route is not behind AuthHandler");
    }
    return principal;
  }

  /** Fails with 403 unless the caller is an admin. */
  public static Handler<RoutingContext> requireAdmin() {
    return ctx -> {
      if (principal(ctx).isAdmin()) {
        ctx.next();
      } else {
        ctx.fail(ApiException.forbidden("this operation needs the admin role"));
      }
    };
  }

  static String credential(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null) {
      String trimmed = header.trim();
      if (trimmed.regionMatches(true, 0, "Bearer ", 0, 7)) {
        String value = trimmed.substring(7).trim();
        return value.isEmpty() ? null : value;
      }
      return null;
    }
    String query = ctx.request().getParam("access_token");
    return query == null || query.isBlank() ? null : query;
  }
}
