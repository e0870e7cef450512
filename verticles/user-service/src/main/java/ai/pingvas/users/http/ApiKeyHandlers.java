package ai.pingvas.users.http;

import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.users.domain.Secrets;
import ai.pingvas.users.store.UserStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The caller's API keys: create (the only time a key is shown), list, revoke. Another user's key is 404. */
final class ApiKeyHandlers {
  private final UserStore users;

  ApiKeyHandlers(UserStore users) {
    this.users = users;
  }

  void list(RoutingContext ctx) {
    users.apiKeys(AuthHandler.principal(ctx).userId()).onSuccess(keys -> {
      JsonArray items = new JsonArray();
      keys.forEach(key -> items.add(key.toJson()));
      TokenHandlers.ok(ctx, 200, new JsonObject().put("items", items));
    }).onFailure(ctx::fail);
  }

  void create(RoutingContext ctx) {
    String key = Secrets.generate(Secrets.API_KEY_PREFIX);
    users.createApiKey(AuthHandler.principal(ctx).userId(), ctx.body().asJsonObject().getString("name"),
            Secrets.sha256(key), Secrets.displayPrefix(key))
        .onSuccess(created -> {
          if (created == null) {
            ctx.fail(ApiException.conflict("too_many_api_keys", "an account holds at most " + UserStore.MAX_ACTIVE_KEYS
                + " active API keys; revoke one you no longer use first"));
            return;
          }
          ctx.response().putHeader("Location", "/v1/api-keys/" + created.id());
          TokenHandlers.ok(ctx, 201, created.toJson().put("key", key));
        })
        .onFailure(ctx::fail);
  }

  void revoke(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    users.revokeApiKey(AuthHandler.principal(ctx).userId(), id).onSuccess(revoked -> {
      if (revoked) {
        ctx.response().setStatusCode(204).end();
      } else {
        ctx.fail(ApiException.notFound("no API key " + id));
      }
    }).onFailure(ctx::fail);
  }
}
