package ai.pingvas.payments;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A local stand-in for api.stripe.com, for the one call billing makes (create a Checkout Session).
 * It answers with the JSON shape Stripe documents for a Checkout Session object, echoing what was
 * sent, and records every request (form fields and headers) for the test to inspect.
 */
final class FakeStripe implements AutoCloseable {
  record Request(String method, String path, String authorization, Map<String, String> form) {
  }

  final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Vertx vertx = Vertx.vertx();
  private final HttpServer server;

  FakeStripe() {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      Map<String, String> form = new TreeMap<>();
      for (String pair : body.toString().split("&")) {
        if (!pair.isEmpty()) {
          int eq = pair.indexOf('=');
          form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
      requests.add(new Request(req.method().name(), req.path(), req.getHeader("Authorization"), form));
      if (req.method().name().equals("POST") && req.path().equals("/v1/checkout/sessions")) {
        req.response().putHeader("Content-Type", "application/json").putHeader("Request-Id", "req_fake")
            .end(session(form).encode());
      } else {
        req.response().setStatusCode(404).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("error", new JsonObject().put("type", "invalid_request_error")
                .put("message", "Unrecognized request URL (" + req.method() + ": " + req.path() + ")")).encode());
      }
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
  }

  String apiBase() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** A Checkout Session as Stripe returns it from POST /v1/checkout/sessions. */
  private static JsonObject session(Map<String, String> form) {
    String id = "cs_test_" + UUID.randomUUID().toString().replace("-", "");
    JsonObject metadata = new JsonObject();
    form.forEach((k, v) -> {
      if (k.startsWith("metadata[")) {
        metadata.put(k.substring(9, k.length() - 1), v);
      }
    });
    String mode = form.getOrDefault("mode", "payment");
    Long amount = form.containsKey("line_items[0][price_data][unit_amount]")
        ? Long.parseLong(form.get("line_items[0][price_data][unit_amount]")) : null;
    return new JsonObject()
        .put("id", id).put("object", "checkout.session").put("after_expiration", null)
        .put("allow_promotion_codes", null).put("amount_subtotal", amount).put("amount_total", amount)
        .put("automatic_tax", new JsonObject().put("enabled", false).put("liability", null).put("status", null))
        .put("billing_address_collection", null).put("cancel_url", form.get("cancel_url"))
        .put("client_reference_id", form.get("client_reference_id")).put("consent", null)
        .put("created", System.currentTimeMillis() / 1000)
        .put("currency", form.getOrDefault("line_items[0][price_data][currency]", "usd"))
        .put("customer", null).put("customer_creation", "if_required").put("customer_details", null)
        .put("customer_email", null).put("expires_at", System.currentTimeMillis() / 1000 + 86_400)
        .put("invoice", null).put("livemode", false).put("locale", null).put("metadata", metadata)
        .put("mode", mode).put("payment_intent", null).put("payment_method_types", new io.vertx.core.json.JsonArray()
            .add("card")).put("payment_status", "unpaid").put("setup_intent", null).put("shipping_address_collection",
            null).put("status", "open").put("submit_type", null).put("subscription", null)
        .put("success_url", form.get("success_url")).put("total_details", new JsonObject()
            .put("amount_discount", 0).put("amount_shipping", 0).put("amount_tax", 0))
        .put("ui_mode", "hosted").put("url", "https://checkout.stripe.com/c/pay/" + id);
  }

  @Override
  public void close() {
    vertx.close();
  }
}
