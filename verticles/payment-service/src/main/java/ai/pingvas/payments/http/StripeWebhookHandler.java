package ai.pingvas.payments.http;

import ai.pingvas.payments.PaymentSettings;
import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.payments.stripe.WebhookEvent;
import ai.pingvas.platform.http.ApiException;
import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/billing/stripe/webhook}: the signature (stripe-java's {@link Webhook}) is checked
 * over the raw body before anything else; a bad or stale one is 400 and nothing is written. Each
 * event id is applied once; a redelivery answers 200 without effect, so Stripe stops retrying.
 */
final class StripeWebhookHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(StripeWebhookHandler.class);
  private final PaymentSettings.Stripe settings;
  private final BillingStore store;
  private final TierClient tiers;

  StripeWebhookHandler(PaymentSettings.Stripe settings, BillingStore store, TierClient tiers) {
    this.settings = settings;
    this.store = store;
    this.tiers = tiers;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (settings.webhookSecret() == null) {
      ctx.fail(ApiException.notFound("Stripe webhooks are not configured"));
      return;
    }
    String payload = ctx.body().asString();
    String signature = ctx.request().getHeader("Stripe-Signature");
    try {
      if (payload == null || signature == null) {
        throw new SignatureVerificationException("missing payload or signature", signature);
      }
      Webhook.Signature.verifyHeader(payload, signature, settings.webhookSecret(),
          settings.webhookTolerance().toSeconds());
    } catch (SignatureVerificationException e) {
      ctx.fail(ApiException.badRequest("invalid_signature", "the Stripe-Signature header does not verify"));
      return;
    }
    WebhookEvent event;
    try {
      event = WebhookEvent.parse(new JsonObject(payload), settings.priceTiers());
    } catch (DecodeException | ClassCastException e) {
      ctx.fail(ApiException.badRequest("malformed_json", "the event is not a JSON object"));
      return;
    }
    if (event.id() == null) {
      ctx.fail(ApiException.badRequest("bad_request", "the event has no id"));
      return;
    }
    store.apply(event, tiers::setTier).onSuccess(applied -> {
      LOG.atInfo().addKeyValue("stripe_event", event.id()).addKeyValue("type", event.type())
          .addKeyValue("kind", event.kind()).addKeyValue("outcome", applied).log("Stripe event handled");
      BillingHandlers.ok(ctx, 200, new JsonObject().put("received", true)
          .put("duplicate", applied == BillingStore.Applied.DUPLICATE));
    }).onFailure(err -> {
      LOG.atWarn().addKeyValue("stripe_event", event.id()).addKeyValue("error", err.toString())
          .log("Stripe event not applied; Stripe will retry");
      ctx.fail(ApiException.unavailable("event_not_applied", "the event could not be applied; retry", 5));
    });
  }
}
