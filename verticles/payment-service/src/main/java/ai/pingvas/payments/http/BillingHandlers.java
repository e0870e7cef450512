package ai.pingvas.payments.http;

import ai.pingvas.payments.PaymentSettings;
import ai.pingvas.payments.domain.Tiers;
import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.payments.stripe.StripeGateway;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.UUID;

/** A user's balance, ledger and purchases; the operator's reconciliation and adjustments. */
final class BillingHandlers {
  private final PaymentSettings settings;
  private final BillingStore store;
  private final StripeGateway stripe;

  BillingHandlers(PaymentSettings settings, BillingStore store, StripeGateway stripe) {
    this.settings = settings;
    this.store = store;
    this.stripe = stripe;
  }

  void balance(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    var grant = settings.allowanceMode() ? settings.allowance().grantFor(principal.userId(), principal.tier(),
        Instant.now()) : null;
    store.balance(principal.userId(), grant).onSuccess(balance -> {
      JsonObject json = new JsonObject().put("available", balance.available()).put("reserved", balance.reserved())
          .put("unit", "credits").put("mode", settings.allowanceMode() ? "free_allowance" : "stripe");
      if (grant != null) {
        json.put("monthly_allowance", grant.target());
      }
      ok(ctx, 200, json);
    }).onFailure(ctx::fail);
  }

  void ledger(RoutingContext ctx) {
    String limit = ctx.request().getParam("limit");
    store.ledger(AuthHandler.principal(ctx).userId(), ctx.request().getParam("cursor"),
        limit == null ? 20 : Integer.parseInt(limit)).onSuccess(page -> ok(ctx, 200, page)).onFailure(ctx::fail);
  }

  void checkout(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    if (!settings.stripe().enabled()) {
      ctx.fail(ApiException.conflict("purchases_disabled",
          "billing runs in free-allowance mode: credits are granted monthly by tier and cannot be bought"));
      return;
    }
    JsonObject body = ctx.body().asJsonObject();
    String pack = body.getString("pack");
    String plan = body.getString("plan");
    Future<JsonObject> session;
    if (pack != null && plan == null) {
      PaymentSettings.Pack found = settings.stripe().packs().get(pack);
      session = found == null ? Future.failedFuture(ApiException.badRequest("unknown_pack",
          "pack must be one of " + settings.stripe().packs().keySet())) : stripe.buyCredits(principal.userId(), found);
    } else if (plan != null && pack == null) {
      String price = settings.stripe().planPrices().get(plan);
      session = price == null ? Future.failedFuture(ApiException.badRequest("unknown_plan",
          "plan must be one of " + settings.stripe().planPrices().keySet()))
          : store.subscribedTiers(principal.userId()).compose(tiers -> tiers.isEmpty()
              ? stripe.subscribe(principal.userId(), plan, price)
              // a checkout always starts a new subscription: a second one would be billed alongside the first
              : Future.failedFuture(ApiException.conflict("already_subscribed", "you already have an active "
                  + Tiers.best(tiers) + " subscription; a checkout would start a second one billed alongside it, "
                  + "so plan changes are not made through checkout")));
    } else {
      session = Future.failedFuture(ApiException.badRequest("bad_request", "send either pack or plan"));
    }
    session.onSuccess(json -> ok(ctx, 201, json)).onFailure(ctx::fail);
  }

  void reconcile(RoutingContext ctx) {
    store.reconcile().onSuccess(report -> ok(ctx, 200, report)).onFailure(ctx::fail);
  }

  void adjust(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    // accounts are named by the id's canonical (lower-case) text: an upper-case id must credit the same one
    String userId = Uuids.canonical(body.getString("user_id"));
    // with an Idempotency-Key, a retried request (e.g. after a timeout) posts nothing twice
    String key = ctx.request().getHeader("Idempotency-Key");
    String ref = key == null ? "adjustment:" + UUID.randomUUID() : "adjustment:" + userId + ":" + key;
    store.adjust(userId, body.getLong("amount"), body.getString("reason"), ref)
        .onSuccess(replayed -> {
          ctx.response().putHeader("Idempotent-Replayed", Boolean.toString(replayed));
          ok(ctx, 201, new JsonObject().put("user_id", userId).put("amount", body.getLong("amount")));
        })
        .onFailure(ctx::fail);
  }

  static void ok(RoutingContext ctx, int status, JsonObject json) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(json.encode());
  }
}
