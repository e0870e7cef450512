package ai.pingvas.users.http;

import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import ai.pingvas.users.UserSettings;
import ai.pingvas.users.domain.PasswordHasher;
import ai.pingvas.users.domain.User;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.stream.Collectors;

/** Sign-up, the caller's own account, admin changes to accounts, and the tier table. */
final class AccountHandlers {
  private final Vertx vertx;
  private final UserSettings settings;
  private final UserStore users;
  private final PasswordHasher hasher;
  private final TokenHandlers tokens;

  AccountHandlers(Vertx vertx, UserSettings settings, UserStore users, PasswordHasher hasher, TokenHandlers tokens) {
    this.vertx = vertx;
    this.settings = settings;
    this.users = users;
    this.hasher = hasher;
    this.tokens = tokens;
  }

  /** {@code POST /v1/users}. */
  void signUp(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    String password = body.getString("password");
    if (password.length() < settings.passwordMinLength()) {
      ctx.fail(ApiException.validation("/password: must be at least " + settings.passwordMinLength() + " characters",
          new JsonArray().add(new JsonObject().put("pointer", "/password")
              .put("detail", "must be at least " + settings.passwordMinLength() + " characters"))));
      return;
    }
    TokenHandlers.NewRefresh refresh = tokens.newRefresh();
    vertx.executeBlocking(() -> hasher.hash(password), false)
        // the account and its first tokens commit together: a failure leaves no account, so a retry is no 409
        .compose(hash -> users.create(body.getString("email").trim(), body.getString("name"), hash,
            refresh.grant(), tokens::accessToken))
        .map(granted -> new JsonObject().put("user", granted.user().toJson())
            .put("tokens", tokens.pair(granted.accessToken(), refresh.secret())))
        .onSuccess(json -> {
          ctx.response().putHeader("Location", "/v1/users/" + json.getJsonObject("user").getString("id"));
          TokenHandlers.ok(ctx, 201, json);
        })
        .onFailure(ctx::fail);
  }

  /** {@code GET /v1/me}: the account, its tier's limits, and how this request authenticated. */
  void me(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    users.byId(principal.userId()).compose(this::found).onSuccess(user -> TokenHandlers.ok(ctx, 200,
        user.toJson().put("limits", settings.tiers().get(user.tier()).toJson())
            .put("auth_method", principal.method()))).onFailure(ctx::fail);
  }

  /** {@code GET /v1/users/{id}}: yourself, or anyone for an admin; others answer 404 as if missing. */
  void get(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String id = Uuids.canonical(ctx.pathParam("id"));
    if (!principal.isAdmin() && !principal.userId().equals(id)) {
      ctx.fail(ApiException.notFound("no user " + id));
      return;
    }
    users.byId(id).compose(this::found).onSuccess(user -> TokenHandlers.ok(ctx, 200, user.toJson()))
        .onFailure(ctx::fail);
  }

  /** {@code PATCH /v1/users/{id}} (admin). */
  void update(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    JsonArray roles = body.getJsonArray("roles");
    Set<String> roleSet = roles == null ? null : roles.stream().map(String::valueOf).collect(Collectors.toSet());
    users.update(Uuids.canonical(ctx.pathParam("id")), body.getString("tier"), roleSet).compose(this::found)
        .onSuccess(user -> TokenHandlers.ok(ctx, 200, user.toJson())).onFailure(ctx::fail);
  }

  /** {@code GET /v1/tiers}. */
  void tiers(RoutingContext ctx) {
    TokenHandlers.ok(ctx, 200, tierTable(settings));
  }

  static JsonObject tierTable(UserSettings settings) {
    JsonObject tiers = new JsonObject();
    settings.tiers().forEach((name, limits) -> tiers.put(name, limits.toJson()));
    return new JsonObject().put("tiers", tiers);
  }

  private Future<User> found(User user) {
    return user == null ? Future.failedFuture(ApiException.notFound("no such user")) : Future.succeededFuture(user);
  }
}
