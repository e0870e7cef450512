package ai.pingvas.payments;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Buying credits and tiers through Stripe Checkout and signed webhooks (Stripe is a local fake). */
class StripeBillingIT {
  private static BillingHarness h;

  @BeforeAll
  static void start() {
    h = new BillingHarness("stripe", true).start();
  }

  @AfterAll
  static void stop() {
    h.close();
  }

  @Test
  void checkoutForACreditPackReturnsTheStripeSessionUrl() {
    JsonObject user = h.newUser();
    Http.Response r = h.billing.post("/v1/billing/checkout", user.getString("token"),
        new JsonObject().put("pack", "starter"));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().getString("url")).startsWith("https://checkout.stripe.com/c/pay/cs_test_");
    FakeStripe.Request sent = h.stripe.requests.get(h.stripe.requests.size() - 1);
    assertThat(sent.path()).isEqualTo("/v1/checkout/sessions");
    assertThat(sent.authorization()).isEqualTo("Bearer " + BillingHarness.STRIPE_KEY);
    assertThat(sent.form()).containsEntry("mode", "payment")
        .containsEntry("client_reference_id", user.getString("id"))
        .containsEntry("metadata[user_id]", user.getString("id"))
        .containsEntry("metadata[credits]", "1000")
        .containsEntry("line_items[0][price_data][unit_amount]", "500")
        .containsEntry("line_items[0][price_data][currency]", "usd");
  }

  @Test
  void checkoutForAPlanStartsASubscriptionOnThePlansPrice() {
    JsonObject user = h.newUser();
    Http.Response r = h.billing.post("/v1/billing/checkout", user.getString("key"), new JsonObject().put("plan", "pro"));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    FakeStripe.Request sent = h.stripe.requests.get(h.stripe.requests.size() - 1);
    assertThat(sent.form()).containsEntry("mode", "subscription")
        .containsEntry("line_items[0][price]", BillingHarness.PRO_PRICE)
        .containsEntry("subscription_data[metadata][user_id]", user.getString("id"));
    assertThat(h.billing.post("/v1/billing/checkout", user.getString("key"), new JsonObject().put("pack", "nope"))
        .status()).isEqualTo(400);
  }

  @Test
  void aPlanCheckoutWhileSubscribedIsRefusedInsteadOfStartingASecondSubscription() {
    JsonObject user = h.newUser();
    deliverSubscription("customer.subscription.created", StripeEvents.now(), subscriptionId(), user.getString("id"),
        "active", BillingHarness.PRO_PRICE);
    int sessions = h.stripe.requests.size();
    Http.Response upgrade = h.billing.post("/v1/billing/checkout", user.getString("key"),
        new JsonObject().put("plan", "studio"));
    assertThat(upgrade.status()).as(upgrade.body()).isEqualTo(409);
    assertThat(upgrade.json().getString("code")).isEqualTo("already_subscribed");
    assertThat(upgrade.json().getString("detail")).contains("pro");
    assertThat(h.stripe.requests).as("no checkout session was opened").hasSize(sessions);
    // credit packs stay on sale to subscribers
    assertThat(h.billing.post("/v1/billing/checkout", user.getString("key"), new JsonObject().put("pack", "starter"))
        .status()).isEqualTo(201);
  }

  @Test
  void aPlanCheckoutAfterTheSubscriptionEndedStartsANewOne() {
    JsonObject user = h.newUser();
    String sub = subscriptionId();
    long t = StripeEvents.now();
    deliverSubscription("customer.subscription.created", t, sub, user.getString("id"), "active",
        BillingHarness.PRO_PRICE);
    deliverSubscription("customer.subscription.deleted", t + 1, sub, user.getString("id"), "canceled",
        BillingHarness.PRO_PRICE);
    assertThat(h.billing.post("/v1/billing/checkout", user.getString("key"), new JsonObject().put("plan", "studio"))
        .status()).isEqualTo(201);
  }

  @Test
  void aPaidCheckoutCreditsTheBuyerExactlyOnceWhateverTheRedeliveries() {
    JsonObject user = h.newUser();
    String session = "cs_test_" + UUID.randomUUID().toString().replace("-", "");
    JsonObject completed = StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession(session, user.getString("id"), 1000, 500));
    assertThat(h.deliver(completed).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(1000);

    Http.Response again = h.deliver(completed);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
    // another event about the same session (e.g. async_payment_succeeded) does not credit it twice either
    JsonObject async = StripeEvents.event("checkout.session.async_payment_succeeded", StripeEvents.now(),
        StripeEvents.paidSession(session, user.getString("id"), 1000, 500));
    assertThat(h.deliver(async).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(1000);
    assertThat(h.query("SELECT count(*) FROM payments.stripe_events WHERE id IN ('" + completed.getString("id")
        + "', '" + async.getString("id") + "')")).isEqualTo("2");
  }

  @Test
  void eventsOfOneSubscriptionInTheSameSecondApplyInTheOrderOfItsLife() {
    JsonObject user = h.newUser();
    String id = user.getString("id");
    String sub = subscriptionId();
    long t = StripeEvents.now();
    // created (incomplete) and activated in the same second, delivered activation first
    deliverSubscription("customer.subscription.updated", t, sub, id, "active", BillingHarness.PRO_PRICE);
    deliverSubscription("customer.subscription.created", t, sub, id, "incomplete", BillingHarness.PRO_PRICE);
    assertThat(tier(user)).isEqualTo("pro");
    // deleted, and an update of the same second delivered after it
    deliverSubscription("customer.subscription.deleted", t + 5, sub, id, "canceled", BillingHarness.PRO_PRICE);
    deliverSubscription("customer.subscription.updated", t + 5, sub, id, "active", BillingHarness.PRO_PRICE);
    assertThat(tier(user)).isEqualTo("free");
  }

  @Test
  void anUpgradesNewSubscriptionAndTheOldOnesEndAppliedAtOnceLeaveTheNewTier() throws Exception {
    JsonObject user = h.newUser();
    String id = user.getString("id");
    String pro = subscriptionId();
    String studio = subscriptionId();
    long t = StripeEvents.now();
    deliverSubscription("customer.subscription.created", t, pro, id, "active", BillingHarness.PRO_PRICE);
    assertThat(tier(user)).isEqualTo("pro");
    // the studio subscription's event commits slowly (a deferred trigger sleeps at its commit), after
    // it has read the user's subscriptions and set the tier; the pro one's end arrives meanwhile
    String name = "slow_commit_" + studio.substring(4);
    h.execute("CREATE FUNCTION payments." + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "PERFORM pg_sleep(1.5); RETURN NULL; END $$; CREATE CONSTRAINT TRIGGER " + name
        + " AFTER INSERT ON payments.subscriptions DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        + "WHEN (NEW.id = '" + studio + "') EXECUTE FUNCTION payments." + name + "()");
    try {
      CompletableFuture<Void> upgrade = CompletableFuture.runAsync(() -> deliverSubscription(
          "customer.subscription.created", t + 1, studio, id, "active", BillingHarness.STUDIO_PRICE));
      Thread.sleep(400);
      deliverSubscription("customer.subscription.deleted", t + 1, pro, id, "canceled", BillingHarness.PRO_PRICE);
      upgrade.get(20, TimeUnit.SECONDS);
      assertThat(tier(user)).as("the studio subscription is active").isEqualTo("studio");
    } finally {
      h.execute("DROP TRIGGER " + name + " ON payments.subscriptions; DROP FUNCTION payments." + name + "()");
    }
  }

  private static String subscriptionId() {
    return "sub_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
  }

  /** Delivers a subscription event of {@code sub} (of user {@code id}) created at {@code t}; Stripe is told 200. */
  private static void deliverSubscription(String type, long t, String sub, String id, String status, String price) {
    assertThat(h.deliver(StripeEvents.event(type, t, StripeEvents.subscription(sub, id, status, price))).status())
        .isEqualTo(200);
  }

  @Test
  void aRefundedPurchaseTakesItsCreditsBackOnceNeverBelowZero() {
    JsonObject user = h.newUser();
    String session = "cs_test_" + UUID.randomUUID().toString().replace("-", "");
    String intent = "pi_" + session.substring(8);
    String charge = "ch_" + session.substring(8);
    assertThat(h.deliver(StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession(session, user.getString("id"), 1000, 500))).status()).isEqualTo(200);
    // 80 credits held for a job
    assertThat(h.reserve(UUID.randomUUID().toString(), user.getString("id"), "free", 1024, 1024, 30, 2).status())
        .isEqualTo(201);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(920);

    // half the charge refunded: half the credits go
    JsonObject half = StripeEvents.event("charge.refunded", StripeEvents.now(),
        StripeEvents.refundedCharge(charge, intent, 500, 250));
    assertThat(h.deliver(half).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(420);
    assertThat(h.deliver(half).json().getBoolean("duplicate")).isTrue();
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(420);

    // the rest refunded: the other 500 are owed, 420 remain to take, the 80 held are written off
    assertThat(h.deliver(StripeEvents.event("charge.refunded", StripeEvents.now(),
        StripeEvents.refundedCharge(charge, intent, 500, 500))).status()).isEqualTo(200);
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getLong("available")).isZero();
    assertThat(balance.getLong("reserved")).isEqualTo(80);
    // a late copy of the first refund's state (another event id) takes nothing more
    assertThat(h.deliver(StripeEvents.event("charge.refunded", StripeEvents.now(),
        StripeEvents.refundedCharge(charge, intent, 500, 250))).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isZero();

    var refunds = h.billing.get("/v1/billing/ledger?limit=50", user.getString("key")).json().getJsonArray("items")
        .stream().map(JsonObject.class::cast).filter(e -> "refund".equals(e.getString("kind")))
        .map(e -> e.getLong("amount")).toList();
    assertThat(refunds).containsExactly(-420L, -500L);
    JsonObject books = h.billing.get("/v1/billing/reconciliation", BillingHarness.ADMIN_KEY).json();
    assertThat(books.getBoolean("consistent")).as(books.encodePrettily()).isTrue();
  }

  @Test
  void aRefundOfAPurchaseNotRecordedYetIsRetriedByStripeWithNothingWrittenForADay() {
    JsonObject user = h.newUser();
    String session = "cs_test_" + UUID.randomUUID().toString().replace("-", "");
    JsonObject refund = StripeEvents.event("charge.refunded", StripeEvents.now(),
        StripeEvents.refundedCharge("ch_" + session.substring(8), "pi_" + session.substring(8), 500, 500));
    Http.Response early = h.deliver(refund);
    assertThat(early.status()).isEqualTo(503);
    assertThat(h.query("SELECT count(*) FROM payments.stripe_events WHERE id = '" + refund.getString("id") + "'"))
        .isEqualTo("0");
    // the purchase arrives, then Stripe's retry of the refund: bought and refunded, nothing left
    assertThat(h.deliver(StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession(session, user.getString("id"), 1000, 500))).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(1000);
    assertThat(h.deliver(refund).status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isZero();
    // a refund of no recorded purchase that is more than a day old has nothing to wait for
    JsonObject stale = StripeEvents.event("charge.refunded", StripeEvents.now() - 2 * 86_400,
        StripeEvents.refundedCharge("ch_unknown" + session.substring(8), "pi_unknown" + session.substring(8), 500, 500));
    assertThat(h.deliver(stale).status()).isEqualTo(200);
    assertThat(h.query("SELECT count(*) FROM payments.stripe_events WHERE id = '" + stale.getString("id") + "'"))
        .isEqualTo("1");
  }

  /** A new user who bought a 1,000-credit pack for 500 cents, and the Stripe ids of its payment. */
  private record Pack(String userId, String key, String intent, String charge, String dispute) {
  }

  private static Pack boughtPack() {
    JsonObject user = h.newUser();
    String session = "cs_test_" + UUID.randomUUID().toString().replace("-", "");
    assertThat(h.deliver(StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession(session, user.getString("id"), 1000, 500))).status()).isEqualTo(200);
    return new Pack(user.getString("id"), user.getString("key"), "pi_" + session.substring(8),
        "ch_" + session.substring(8), "dp_" + session.substring(8, 32));
  }

  @Test
  void aChargebackTakesTheDisputedCreditsAndAWonDisputeGivesBackWhatItTook() {
    Pack pack = boughtPack();
    // 80 credits held for a job, 100 of the pack refunded: 820 available, 900 of the pack left to dispute
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, pack.userId(), "free", 1024, 1024, 30, 2).status()).isEqualTo(201);
    assertThat(h.deliver(StripeEvents.event("charge.refunded", StripeEvents.now(),
        StripeEvents.refundedCharge(pack.charge(), pack.intent(), 500, 50))).status()).isEqualTo(200);
    assertThat(h.balance(pack.key()).getLong("available")).isEqualTo(820);

    // the cardholder disputes the rest of the charge (450 of 500 cents): 900 credits owed, 820 to take
    JsonObject withdrawn = StripeEvents.event("charge.dispute.funds_withdrawn", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 450, false));
    assertThat(h.deliver(withdrawn).status()).isEqualTo(200);
    JsonObject balance = h.balance(pack.key());
    assertThat(balance.getLong("available")).isZero();
    assertThat(balance.getLong("reserved")).as("a hold is not taken").isEqualTo(80);
    // Stripe's redelivery, and a second event of the same withdrawal, take nothing more
    assertThat(h.deliver(withdrawn).json().getBoolean("duplicate")).isTrue();
    assertThat(h.deliver(StripeEvents.event("charge.dispute.funds_withdrawn", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 450, false))).status()).isEqualTo(200);
    assertThat(h.balance(pack.key()).getLong("available")).isZero();

    // the hold is released meanwhile (80 back), then the dispute is won: the 820 taken come back, once
    assertThat(h.release(job).status()).isEqualTo(200);
    JsonObject won = StripeEvents.event("charge.dispute.funds_reinstated", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 450, true));
    assertThat(h.deliver(won).status()).isEqualTo(200);
    assertThat(h.deliver(StripeEvents.event("charge.dispute.funds_reinstated", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 450, true))).status()).isEqualTo(200);
    assertThat(h.balance(pack.key()).getLong("available")).isEqualTo(900);

    var disputes = h.billing.get("/v1/billing/ledger?limit=50", pack.key()).json().getJsonArray("items").stream()
        .map(JsonObject.class::cast).filter(e -> "dispute".equals(e.getString("kind")))
        .map(e -> e.getLong("amount")).toList();
    assertThat(disputes).containsExactly(820L, -820L);
    JsonObject books = h.billing.get("/v1/billing/reconciliation", BillingHarness.ADMIN_KEY).json();
    assertThat(books.getBoolean("consistent")).as(books.encodePrettily()).isTrue();
  }

  @Test
  void aReinstatementDeliveredBeforeItsWithdrawalIsRetriedUntilTheWithdrawalIsRecorded() {
    Pack pack = boughtPack();
    JsonObject won = StripeEvents.event("charge.dispute.funds_reinstated", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 500, true));
    assertThat(h.deliver(won).status()).as("nothing withdrawn yet to give back").isEqualTo(503);
    assertThat(h.balance(pack.key()).getLong("available")).isEqualTo(1000);

    assertThat(h.deliver(StripeEvents.event("charge.dispute.funds_withdrawn", StripeEvents.now(),
        StripeEvents.dispute(pack.dispute(), pack.charge(), pack.intent(), 500, false))).status()).isEqualTo(200);
    assertThat(h.balance(pack.key()).getLong("available")).isZero();
    assertThat(h.deliver(won).status()).as("Stripe's retry").isEqualTo(200);
    assertThat(h.balance(pack.key()).getLong("available")).isEqualTo(1000);
  }

  @Test
  void badStaleOrTamperedSignaturesAre400AndWriteNothing() {
    JsonObject user = h.newUser();
    JsonObject event = StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession("cs_test_" + UUID.randomUUID().toString().replace("-", ""), user.getString("id"),
            5000, 2000));
    Http.Response wrongSecret = h.deliver(event, "whsec_not_the_secret", StripeEvents.now());
    Http.Response stale = h.deliver(event, BillingHarness.WEBHOOK_SECRET, StripeEvents.now() - 600);
    String payload = event.encode();
    String signature = StripeEvents.sign(payload, BillingHarness.WEBHOOK_SECRET, StripeEvents.now());
    Http.Response tampered = h.billing.send("POST", "/v1/billing/stripe/webhook", null,
        payload.replace("\"5000\"", "\"500000\""), "Content-Type", "application/json", "Stripe-Signature", signature);
    Http.Response unsigned = h.billing.send("POST", "/v1/billing/stripe/webhook", null, payload,
        "Content-Type", "application/json");
    for (Http.Response r : new Http.Response[] {wrongSecret, stale, tampered, unsigned}) {
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.json().getString("code")).isEqualTo("invalid_signature");
    }
    assertThat(h.query("SELECT count(*) FROM payments.stripe_events WHERE id = '" + event.getString("id") + "'"))
        .isEqualTo("0");
    assertThat(h.balance(user.getString("key")).getLong("available")).isZero();
  }

  @Test
  void subscriptionEventsSetTheTierAndAnOlderEventNeverOverridesANewerOne() {
    JsonObject user = h.newUser();
    String id = user.getString("id");
    String sub = subscriptionId();
    long t = StripeEvents.now();
    // delivered out of order: the update (active, t+10) arrives before the creation (incomplete, t)
    deliverSubscription("customer.subscription.updated", t + 10, sub, id, "active", BillingHarness.PRO_PRICE);
    assertThat(tier(user)).isEqualTo("pro");
    deliverSubscription("customer.subscription.created", t, sub, id, "incomplete", BillingHarness.PRO_PRICE);
    assertThat(tier(user)).isEqualTo("pro");
    // an upgrade, then the end of the subscription
    deliverSubscription("customer.subscription.updated", t + 20, sub, id, "active", BillingHarness.STUDIO_PRICE);
    assertThat(tier(user)).isEqualTo("studio");
    deliverSubscription("customer.subscription.deleted", t + 30, sub, id, "canceled", BillingHarness.STUDIO_PRICE);
    assertThat(tier(user)).isEqualTo("free");
  }

  @Test
  void purchasesAreRefusedWithoutCredentials() {
    assertThat(h.billing.post("/v1/billing/checkout", null, new JsonObject().put("pack", "starter")).status())
        .isEqualTo(401);
    assertThat(h.billing.get("/v1/billing/balance", "pv_unknown").status()).isEqualTo(401);
  }

  private static String tier(JsonObject user) {
    return h.users.get("/v1/me", user.getString("key")).json().getString("tier");
  }
}
