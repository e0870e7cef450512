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
import java.util.Locale;
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
    // The per-account limit counts by the account the e-mail finds (Postgres's own case-insensitive
    // match), so no spelling of an address that reaches the account is a fresh budget: not " a@x.com",
    // and not a letter whose lower case Java and Postgres spell differently (Java's lower case of "İ"
    // is two characters, Postgres's in a UTF-8 locale is "i"). Unknown addresses count by their text.
    String account = email.trim();
    return users.byEmail(account).compose(user -> limits.loginAttempt(user == null
            ? "email:" + account.toLowerCase(Locale.ROOT) : "account:" + user.id()).map(user))
        .compose(user -> vertx.executeBlocking(
            () -> hasher.verify(password, user == null ? decoy : user.passwordHash()) && user != null, false)
        .compose(matches -> matches ? issue(user) : Future.failedFuture(
            ApiException.unauthorized("wrong e-mail or password"))));
  }

  private Future<JsonObject> refresh(String token) {
    if (token == null) {
      return Future.failedFuture(ApiException.badRequest("invalid_request", "refresh_token is required"));
    }
    String next = Secrets.generate(Secrets.REFRESH_PREFIX);
    return users.rotateRefreshToken(Secrets.sha256(token), Secrets.sha256(next), refreshExpiry(), this::accessToken)
        .compose(granted -> granted.refused()
            ? Future.failedFuture(ApiException.unauthorized("refresh token is unknown, used, revoked or expired"))
            : Future.succeededFuture(pair(granted.accessToken(), next)));
  }

  /** A new access token and the first refresh token of a new family (a login). */
  private Future<JsonObject> issue(User user) {
    String access;
    try {
      access = accessToken(user);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    NewRefresh refresh = newRefresh();
    return users.saveRefreshToken(user.id(), refresh.grant()).map(v -> pair(access, refresh.secret()));
  }

  /** A refresh token of a new family: its secret (for the answer) and what is stored of it. */
  record NewRefresh(String secret, UserStore.RefreshGrant grant) {
  }

  NewRefresh newRefresh() {
    String secret = Secrets.generate(Secrets.REFRESH_PREFIX);
    return new NewRefresh(secret, new UserStore.RefreshGrant(Secrets.sha256(secret), UUID.randomUUID().toString(),
        refreshExpiry()));
  }

  private Instant refreshExpiry() {
    return Instant.now().plus(settings.refreshTtl());
  }

  /** Signs an access token; 503 (thrown, so a transaction around it rolls back) while no key can sign. */
  String accessToken(User user) {
    try {
      return ring.issue(user);
    } catch (IllegalStateException e) {
      throw ApiException.unavailable("keys_unavailable", "no signing key is ready yet", 2);
    }
  }

  /** The token answer: an access token and a refresh token. */
  JsonObject pair(String access, String refresh) {
    return new JsonObject().put("access_token", access).put("token_type", "Bearer")
        .put("expires_in", settings.accessTtl().toSeconds()).put("refresh_token", refresh)
        .put("refresh_expires_in", settings.refreshTtl().toSeconds());
  }

  static void ok(RoutingContext ctx, int status, JsonObject json) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(json.encode());
  }
}
