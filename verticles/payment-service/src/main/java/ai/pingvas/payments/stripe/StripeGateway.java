package ai.pingvas.payments.stripe;

import ai.pingvas.payments.PaymentSettings;
import ai.pingvas.platform.http.ApiException;
import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.param.checkout.SessionCreateParams;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates Stripe Checkout Sessions with stripe-java (blocking HTTP, so on a worker thread): credit
 * packs as one-off payments, tiers as subscriptions. The user id travels in
 * {@code client_reference_id} and metadata, which is how the webhook knows whom to credit.
 */
public final class StripeGateway {
  private static final Logger LOG = LoggerFactory.getLogger(StripeGateway.class);
  private final Vertx vertx;
  private final PaymentSettings.Stripe settings;
  private final StripeClient client;

  public StripeGateway(Vertx vertx, PaymentSettings.Stripe settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.client = StripeClient.builder().setApiKey(settings.apiKey()).setApiBase(settings.apiBase())
        .setConnectTimeout(5_000).setReadTimeout(15_000).setMaxNetworkRetries(1).build();
  }

  /** A Checkout Session buying a credit pack. */
  public Future<JsonObject> buyCredits(String userId, PaymentSettings.Pack pack) {
    SessionCreateParams params = SessionCreateParams.builder()
        .setMode(SessionCreateParams.Mode.PAYMENT)
        .setSuccessUrl(settings.successUrl()).setCancelUrl(settings.cancelUrl())
        .setClientReferenceId(userId)
        .putMetadata("user_id", userId).putMetadata("credits", Long.toString(pack.credits()))
        .putMetadata("pack", pack.name())
        .addLineItem(SessionCreateParams.LineItem.builder().setQuantity(1L)
            .setPriceData(SessionCreateParams.LineItem.PriceData.builder().setCurrency(settings.currency())
                .setUnitAmount(pack.cents())
                .setProductData(SessionCreateParams.LineItem.PriceData.ProductData.builder()
                    .setName(pack.credits() + " Pingvas credits").build())
                .build())
            .build())
        .build();
    return create(params);
  }

  /** A Checkout Session subscribing to a tier's plan. */
  public Future<JsonObject> subscribe(String userId, String tier, String priceId) {
    SessionCreateParams params = SessionCreateParams.builder()
        .setMode(SessionCreateParams.Mode.SUBSCRIPTION)
        .setSuccessUrl(settings.successUrl()).setCancelUrl(settings.cancelUrl())
        .setClientReferenceId(userId)
        .putMetadata("user_id", userId).putMetadata("plan", tier)
        .setSubscriptionData(SessionCreateParams.SubscriptionData.builder().putMetadata("user_id", userId)
            .putMetadata("plan", tier).build())
        .addLineItem(SessionCreateParams.LineItem.builder().setPrice(priceId).setQuantity(1L).build())
        .build();
    return create(params);
  }

  private Future<JsonObject> create(SessionCreateParams params) {
    return vertx.executeBlocking(() -> {
      Session session = client.v1().checkout().sessions().create(params);
      return new JsonObject().put("id", session.getId()).put("url", session.getUrl());
    }, false).recover(err -> {
      LOG.atWarn().addKeyValue("error", err.toString()).log("Stripe Checkout Session creation failed");
      String detail = err instanceof StripeException se && se.getStripeError() != null
          ? se.getStripeError().getMessage() : "the payment provider is unavailable";
      return Future.failedFuture(ApiException.of(502, "payment_provider_error", "Bad gateway", detail));
    });
  }
}
