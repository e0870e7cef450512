package ai.pingvas.users.http;

import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.users.UserSettings;
import ai.pingvas.users.domain.User;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** Service-to-service routes (X-Internal-Token): API-key introspection, the tier table, tier changes from billing. */
final class InternalHandlers {
  private final UserStore users;
  private final Authenticator authenticator;
  private final UserSettings settings;

  InternalHandlers(UserStore users, Authenticator authenticator, UserSettings settings) {
    this.users = users;
    this.authenticator = authenticator;
    this.settings = settings;
  }

  /** {@code POST /internal/v1/auth/introspect {credential}} → the principal, or 401. Never cached here. */
  void introspect(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    String credential = body == null ? null : body.getString("credential");
    if (credential == null) {
      ctx.fail(ApiException.badRequest("missing_credential", "send {\"credential\": \"...\"}"));
      return;
    }
    authenticator.authenticate(credential).onSuccess(principal -> TokenHandlers.ok(ctx, 200, principal.toJson()))
        .onFailure(ctx::fail);
  }

  /** {@code GET /internal/v1/users/{id}}: a user's tier and its limits (e.g. the gallery's storage quota). */
  void user(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    try {
      UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      ctx.fail(ApiException.badRequest("invalid_id", "not a user id"));
      return;
    }
    users.byId(id).onSuccess(user -> {
      if (user == null) {
        ctx.fail(ApiException.notFound("no user " + id));
      } else {
        TokenHandlers.ok(ctx, 200, user.toJson().put("limits", settings.tiers().get(user.tier()).toJson()));
      }
    }).onFailure(ctx::fail);
  }

  void tiers(RoutingContext ctx) {
    TokenHandlers.ok(ctx, 200, AccountHandlers.tierTable(settings));
  }

  /** {@code PUT /internal/v1/users/{id}/tier {tier}}: subscriptions (payment-service) change tiers. */
  void setTier(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    String tier = body == null ? null : body.getString("tier");
    String id = ctx.pathParam("id");
    if (tier == null || !User.TIERS.contains(tier)) {
      ctx.fail(ApiException.badRequest("invalid_tier", "tier must be one of " + User.TIERS));
      return;
    }
    try {
      UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      ctx.fail(ApiException.badRequest("invalid_id", "not a user id"));
      return;
    }
    users.update(id, tier, null).onSuccess(user -> {
      if (user == null) {
        ctx.fail(ApiException.notFound("no user " + id));
      } else {
        TokenHandlers.ok(ctx, 200, user.toJson());
      }
    }).onFailure(ctx::fail);
  }
}
