package ai.pingvas.payments.stripe;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;

/**
 * What a verified Stripe event means to billing: buy credits, a subscription changed, a purchase
 * was refunded, its charge's disputed funds were withdrawn or reinstated, or nothing.
 */
public record WebhookEvent(String id, String type, Instant created, Kind kind, Purchase purchase,
    Subscription subscription, Refund refund, Dispute dispute) {

  public enum Kind { PURCHASE, SUBSCRIPTION, REFUND, DISPUTE, IGNORED }

  /**
   * A paid Checkout Session of mode payment: {@code credits} go to {@code userId}; its
   * {@code paymentIntent} is how a later refund of its charge finds it.
   */
  public record Purchase(String sessionId, String userId, long credits, long amountTotal, String currency,
      String paymentIntent) {
  }

  /**
   * A charge refunded in part or in full ({@code charge.refunded}): {@code amountRefunded} is the
   * total refunded so far of the charge's {@code amount}, both in the currency's smallest unit.
   */
  public record Refund(String chargeId, String paymentIntent, long amount, long amountRefunded) {
  }

  /**
   * A dispute (chargeback) of a charge: {@code amount} of it was withdrawn from us
   * ({@code charge.dispute.funds_withdrawn}) or, the dispute won, given back
   * ({@code charge.dispute.funds_reinstated}). An inquiry withdraws nothing and sends neither.
   */
  public record Dispute(String disputeId, String chargeId, String paymentIntent, long amount, boolean reinstated) {
  }

  /** A subscription's new state; {@code tier} is null when its price is not one of our plans. */
  public record Subscription(String id, String userId, String status, String tier) {
  }

  /** Reads the event JSON (already signature-verified); {@code planTiers} maps Stripe price ids to tiers. */
  public static WebhookEvent parse(JsonObject event, Map<String, String> planTiers) {
    String type = event.getString("type", "");
    String id = event.getString("id");
    Instant created = Instant.ofEpochSecond(event.getLong("created", 0L));
    JsonObject object = event.getJsonObject("data", new JsonObject()).getJsonObject("object", new JsonObject());
    JsonObject metadata = object.getJsonObject("metadata", new JsonObject());
    switch (type) {
      case "checkout.session.completed", "checkout.session.async_payment_succeeded" -> {
        String userId = uuidOrNull(object.getString("client_reference_id", metadata.getString("user_id")));
        String credits = metadata.getString("credits");
        if ("payment".equals(object.getString("mode")) && "paid".equals(object.getString("payment_status"))
            && userId != null && credits != null) {
          return new WebhookEvent(id, type, created, Kind.PURCHASE, new Purchase(object.getString("id"), userId,
              Long.parseLong(credits), object.getLong("amount_total", 0L), object.getString("currency"),
              object.getString("payment_intent")), null, null, null);
        }
      }
      case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted" -> {
        String userId = uuidOrNull(metadata.getString("user_id"));
        if (userId != null) {
          String status = type.endsWith(".deleted") ? "canceled" : object.getString("status", "incomplete");
          return new WebhookEvent(id, type, created, Kind.SUBSCRIPTION, null,
              new Subscription(object.getString("id"), userId, status, planTiers.get(priceId(object))), null, null);
        }
      }
      case "charge.refunded" -> {
        String charge = object.getString("id");
        String intent = object.getString("payment_intent");
        long amount = object.getLong("amount", 0L);
        long refunded = object.getLong("amount_refunded", 0L);
        if (charge != null && intent != null && amount > 0 && refunded > 0) {
          return new WebhookEvent(id, type, created, Kind.REFUND, null, null,
              new Refund(charge, intent, amount, Math.min(refunded, amount)), null);
        }
      }
      case "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated" -> {
        String dispute = object.getString("id");
        String intent = object.getString("payment_intent");
        long amount = object.getLong("amount", 0L);
        if (dispute != null && intent != null && amount > 0) {
          return new WebhookEvent(id, type, created, Kind.DISPUTE, null, null, null, new Dispute(dispute,
              object.getString("charge"), intent, amount, type.endsWith("funds_reinstated")));
        }
      }
      default -> {
      }
    }
    return new WebhookEvent(id, type, created, Kind.IGNORED, null, null, null, null);
  }

  private static String uuidOrNull(String text) {
    try {
      return text == null ? null : java.util.UUID.fromString(text).toString();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String priceId(JsonObject subscription) {
    JsonArray items = subscription.getJsonObject("items", new JsonObject()).getJsonArray("data", new JsonArray());
    if (items.isEmpty()) {
      return null;
    }
    return items.getJsonObject(0).getJsonObject("price", new JsonObject()).getString("id");
  }
}
