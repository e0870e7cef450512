package ai.pingvas.payments;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Without a Stripe key: balances are topped up monthly by tier, purchases and webhooks are off,
 * and reservations older than queue.ttl + execution.timeout are released by the sweeper.
 */
class AllowanceIT {
  private static BillingHarness h;

  @BeforeAll
  static void start() {
    h = new BillingHarness("allowance", false).with("PINGVAS_QUEUE_TTL", "1s")
        .with("PINGVAS_EXECUTION_TIMEOUT", "1s").with("PINGVAS_RETRY_MAX_ATTEMPTS", "1").with("PINGVAS_RESERVATIONS_SWEEP_EVERY", "200ms").start();
  }

  @AfterAll
  static void stop() {
    h.close();
  }

  @Test
  void aNewUserGetsTheirTiersMonthlyAllowanceOnce() {
    JsonObject user = h.newUser();
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getString("mode")).isEqualTo("free_allowance");
    assertThat(balance.getLong("available")).isEqualTo(200);
    assertThat(h.balance(user.getString("token")).getLong("available")).isEqualTo(200);
    assertThat(h.query("SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'allowance' AND user_id = '"
        + user.getString("id") + "'")).isEqualTo("1");
  }

  @Test
  void anUpgradeTopsUpToTheNewTiersAllowance() {
    JsonObject user = h.newUser();
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(200);
    assertThat(h.users.send("PATCH", "/v1/users/" + user.getString("id"), BillingHarness.ADMIN_KEY,
        "{\"tier\":\"pro\"}").status()).isEqualTo(200);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(5000);
  }

  @Test
  void spentCreditsAreNotRefilledWithinTheMonth() {
    JsonObject user = h.newUser();
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(190);
  }

  @Test
  void purchasesAndWebhooksAreOffWithoutAStripeKey() {
    JsonObject user = h.newUser();
    Http.Response checkout = h.billing.post("/v1/billing/checkout", user.getString("key"),
        new JsonObject().put("pack", "starter"));
    assertThat(checkout.status()).isEqualTo(409);
    assertThat(checkout.json().getString("code")).isEqualTo("purchases_disabled");
    assertThat(h.deliver(StripeEvents.event("checkout.session.completed", StripeEvents.now(),
        StripeEvents.paidSession("cs_test_x", user.getString("id"), 1000, 500))).status()).isEqualTo(404);
  }

  @Test
  void noReservationStaysOpenLongerThanQueueTtlPlusExecutionTimeout() {
    JsonObject user = h.newUser();
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline && h.balance(user.getString("key")).getLong("reserved") != 0) {
      sleep(100);
    }
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(200);
    assertThat(h.query("SELECT status FROM payments.reservations WHERE job_id = '" + job + "'")).isEqualTo("expired");
    String openFor = h.query("SELECT extract(epoch FROM settled_at - created_at) FROM payments.reservations "
        + "WHERE job_id = '" + job + "'");
    // expiry (2 s) plus at most one sweep period (0.2 s), with slack for a loaded machine
    assertThat(Double.parseDouble(openFor)).isBetween(1.9, 3.0);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
