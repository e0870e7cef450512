package ai.pingvas.payments;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Stripe webhook events in Stripe's JSON shape, signed the way Stripe signs them. */
final class StripeEvents {
  static final String API_VERSION = "2025-09-30.clover";

  private StripeEvents() {
  }

  /** {@code Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" with the endpoint secret>}. */
  static String sign(String payload, String secret, long timestamp) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestamp + "." + payload).getBytes(StandardCharsets.UTF_8));
      return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(digest);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonObject event(String type, long created, JsonObject object) {
    return new JsonObject().put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24))
        .put("object", "event").put("api_version", API_VERSION).put("created", created)
        .put("data", new JsonObject().put("object", object)).put("livemode", false).put("pending_webhooks", 1)
        .put("request", new JsonObject().put("id", null).put("idempotency_key", null)).put("type", type);
  }

  /** A completed, paid Checkout Session of mode payment (credit pack). */
  static JsonObject paidSession(String sessionId, String userId, long credits, long cents) {
    return new JsonObject().put("id", sessionId).put("object", "checkout.session").put("amount_subtotal", cents)
        .put("amount_total", cents).put("client_reference_id", userId).put("created", now()).put("currency", "usd")
        .put("customer", "cus_" + userId.substring(0, 8)).put("livemode", false)
        .put("metadata", new JsonObject().put("user_id", userId).put("credits", Long.toString(credits))
            .put("pack", "starter"))
        .put("mode", "payment").put("payment_intent", "pi_" + sessionId.substring(8)).put("payment_status", "paid")
        .put("status", "complete").put("subscription", null).put("url", null);
  }

  /** A Charge of {@code paymentIntent} after refunds of {@code refunded} of its {@code amount} (charge.refunded). */
  static JsonObject refundedCharge(String chargeId, String paymentIntent, long amount, long refunded) {
    return new JsonObject().put("id", chargeId).put("object", "charge").put("amount", amount)
        .put("amount_captured", amount).put("amount_refunded", refunded).put("captured", true).put("created", now())
        .put("currency", "usd").put("livemode", false).put("metadata", new JsonObject()).put("paid", true)
        .put("payment_intent", paymentIntent).put("refunded", refunded >= amount).put("status", "succeeded");
  }

  /**
   * A Dispute of {@code amount} of a charge, as charge.dispute.funds_withdrawn / funds_reinstated carry
   * it (status lost while withdrawn, won once reinstated).
   */
  static JsonObject dispute(String disputeId, String chargeId, String paymentIntent, long amount, boolean won) {
    JsonArray balance = new JsonArray().add(new JsonObject().put("id", "txn_w" + disputeId.substring(3))
        .put("object", "balance_transaction").put("amount", -amount).put("currency", "usd").put("fee", 1500)
        .put("net", -amount - 1500).put("source", disputeId).put("type", "adjustment"));
    if (won) {
      balance.add(new JsonObject().put("id", "txn_r" + disputeId.substring(3)).put("object", "balance_transaction")
          .put("amount", amount).put("currency", "usd").put("fee", -1500).put("net", amount + 1500)
          .put("source", disputeId).put("type", "adjustment"));
    }
    return new JsonObject().put("id", disputeId).put("object", "dispute").put("amount", amount)
        .put("balance_transactions", balance).put("charge", chargeId).put("created", now()).put("currency", "usd")
        .put("evidence", new JsonObject().put("customer_name", null)).put("is_charge_refundable", false)
        .put("livemode", false).put("metadata", new JsonObject()).put("payment_intent", paymentIntent)
        .put("reason", "fraudulent").put("status", won ? "won" : "needs_response");
  }

  /** A Subscription object with one item on {@code priceId}. */
  static JsonObject subscription(String id, String userId, String status, String priceId) {
    JsonObject price = new JsonObject().put("id", priceId).put("object", "price").put("active", true)
        .put("currency", "usd").put("recurring", new JsonObject().put("interval", "month").put("interval_count", 1))
        .put("type", "recurring").put("unit_amount", 1900);
    JsonObject item = new JsonObject().put("id", "si_" + id.substring(4)).put("object", "subscription_item")
        .put("price", price).put("quantity", 1).put("subscription", id);
    return new JsonObject().put("id", id).put("object", "subscription").put("cancel_at_period_end", false)
        .put("created", now()).put("currency", "usd").put("customer", "cus_" + userId.substring(0, 8))
        .put("items", new JsonObject().put("object", "list").put("data", new JsonArray().add(item))
            .put("has_more", false).put("url", "/v1/subscription_items?subscription=" + id))
        .put("livemode", false).put("metadata", new JsonObject().put("user_id", userId).put("plan", "pro"))
        .put("status", status);
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }
}
