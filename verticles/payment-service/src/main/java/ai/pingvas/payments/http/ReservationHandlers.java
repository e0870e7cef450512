package ai.pingvas.payments.http;

import ai.pingvas.payments.PaymentSettings;
import ai.pingvas.payments.store.BillingStore;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.UUID;

/**
 * The router's synchronous half of billing (X-Internal-Token): reserve a job's price before it is
 * stored (402 when the balance is short), and release it if the job ends up not stored.
 */
final class ReservationHandlers {
  private final PaymentSettings settings;
  private final BillingStore store;

  ReservationHandlers(PaymentSettings settings, BillingStore store) {
    this.settings = settings;
    this.store = store;
  }

  /** {@code POST /internal/v1/reservations {job_id, user_id, tier, model, width, height, steps, count}}. */
  void reserve(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    String jobId;
    String userId;
    long price;
    try {
      jobId = UUID.fromString(body.getString("job_id")).toString();
      userId = UUID.fromString(body.getString("user_id")).toString();
      price = settings.prices().price(body.getString("model"), body.getInteger("width"), body.getInteger("height"),
          body.getInteger("steps"), body.getInteger("count", 1));
    } catch (RuntimeException e) {
      ctx.fail(ApiException.badRequest("bad_request",
          "send {job_id, user_id, tier, model, width, height, steps, count}"));
      return;
    }
    Instant now = Instant.now();
    var grant = settings.allowanceMode() ? settings.allowance().grantFor(userId, body.getString("tier", "free"), now)
        : null;
    store.reserve(jobId, userId, price, now.plus(settings.reservationTtl()), grant).onSuccess(reserved -> {
      if (reserved.voided()) {
        ctx.fail(ApiException.conflict("reservation_voided", "job " + jobId + " was released before this "
            + "reservation arrived (its submission was given up); nothing is held"));
        return;
      }
      if (!reserved.accepted()) {
        ctx.fail(ApiException.of(402, "insufficient_credits", "Payment required", "this generation costs "
            + reserved.amount() + " credits and the balance is " + reserved.available()));
        return;
      }
      BillingHandlers.ok(ctx, 201, new JsonObject().put("job_id", jobId).put("amount", reserved.amount())
          .put("available", reserved.available()));
    }).onFailure(ctx::fail);
  }

  /**
   * {@code POST /internal/v1/reservations/{jobId}/release}: idempotent. A job without a reservation
   * is voided, so a reservation of it still in flight (the router gave up waiting) holds nothing.
   */
  void release(RoutingContext ctx) {
    String jobId;
    try {
      jobId = UUID.fromString(ctx.pathParam("jobId")).toString();
    } catch (IllegalArgumentException e) {
      ctx.fail(ApiException.badRequest("invalid_id", "not a job id"));
      return;
    }
    store.releaseOrVoid(jobId).onSuccess(outcome -> BillingHandlers.ok(ctx, 200, new JsonObject()
            .put("job_id", jobId).put("released", outcome == BillingStore.Release.RELEASED)
            .put("voided", outcome == BillingStore.Release.VOIDED)))
        .onFailure(ctx::fail);
  }
}
