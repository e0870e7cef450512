package ai.pingvas.users.http;

import ai.pingvas.platform.http.ApiException;
import ai.pingvas.users.UserSettings;
import ai.pingvas.users.domain.PasswordHasher;
import ai.pingvas.users.domain.Secrets;
import ai.pingvas.users.domain.User;
import ai.pingvas.users.keys.KeyRing;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.UUID;

/** Login, refresh and logout: access tokens (JWT) plus single-use refresh tokens. */
final class TokenHandlers {
  private final Vertx vertx;
  private final UserSettings settings;
  private final UserStore users;
  private final PasswordHasher hasher;
  private final KeyRing ring;
  private final AuthRateLimits limits;
  private final String decoy;

  TokenHandlers(Vertx vertx, UserSettings settings, UserStore users, PasswordHasher hasher, KeyRing ring,
      AuthRateLimits limits) {
    this.vertx = vertx;
    this.settings = settings;
    this.users = users;
    this.hasher = hasher;
    this.ring = ring;
    this.limits = limits;
    this.decoy = hasher.decoy();
  }

  /** {@code POST /v1/auth/token}. */
  void token(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    Future<JsonObject> pair = switch (body.getString("grant_type")) {
      case "password" -> password(body.getString("email"), body.getString("password"));
      case "refresh_token" -> refresh(body.getString("refresh_token"));
      default -> Future.failedFuture(ApiException.badRequest("unsupported_grant_type", "grant_type is unsupported"));
    };
    pair.onSuccess(json -> ok(ctx, 200, json)).onFailure(ctx::fail);
  }

  /** {@code POST /v1/auth/revoke}: the token's whole family stops refreshing. */
  void revoke(RoutingContext ctx) {
    users.revokeRefreshFamily(Secrets.sha256(ctx.body().asJsonObject().getString("refresh_token")))
        .onSuccess(v -> ctx.response().setStatusCode(204).end()).onFailure(ctx::fail);
  }

  private Future<JsonObject> password(String email, String password) {
    if (email == null || password == null) {
      return Future.failedFuture(ApiException.badRequest("invalid_request", "email and password are required"));
    }
    // one form for the per-account limit and the lookup: " a@x.com" must not be a fresh budget for a@x.com
    String account = email.trim();
    return limits.loginAttempt(account).compose(allowed -> users.byEmail(account))
        .compose(user -> vertx.executeBlocking(
            () -> hasher.verify(password, user == null ? decoy : user.passwordHash()) && user != null, false)
        .compose(matches -> matches ? issue(user, UUID.randomUUID().toString()) : Future.failedFuture(
            ApiException.unauthorized("wrong e-mail or password"))));
  }

  private Future<JsonObject> refresh(String token) {
    if (token == null) {
      return Future.failedFuture(ApiException.badRequest("invalid_request", "refresh_token is required"));
    }
    return users.useRefreshToken(Secrets.sha256(token)).compose(use -> {
      if (!use.valid()) {
        return Future.failedFuture(ApiException.unauthorized("refresh token is unknown, used, revoked or expired"));
      }
      return users.byId(use.userId()).compose(user -> user == null
          ? Future.failedFuture(ApiException.unauthorized("the account no longer exists"))
          : issue(user, use.family()));
    });
  }

  /** A new access token and a new refresh token of the given family. */
  Future<JsonObject> issue(User user, String family) {
    String access;
    try {
      access = ring.issue(user);
    } catch (IllegalStateException e) {
      return Future.failedFuture(ApiException.unavailable("keys_unavailable", "no signing key is ready yet", 2));
    }
    String refresh = Secrets.generate(Secrets.REFRESH_PREFIX);
    return users.saveRefreshToken(user.id(), family, Secrets.sha256(refresh), Instant.now().plus(settings.refreshTtl()))
        .map(v -> new JsonObject().put("access_token", access).put("token_type", "Bearer")
            .put("expires_in", settings.accessTtl().toSeconds()).put("refresh_token", refresh)
            .put("refresh_expires_in", settings.refreshTtl().toSeconds()));
  }

  static void ok(RoutingContext ctx, int status, JsonObject json) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(json.encode());
  }
}
