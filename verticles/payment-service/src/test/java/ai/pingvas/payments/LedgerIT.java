package ai.pingvas.payments;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reservations, settlement from job events, the ledger's invariants and its reconciliation. */
class LedgerIT {
  private static BillingHarness h;

  @BeforeAll
  static void start() {
    h = new BillingHarness("ledger", true).start();
  }

  @AfterAll
  static void stop() {
    h.close();
  }

  @Test
  void aShortBalanceIs402AndNothingIsHeld() {
    JsonObject user = fundedUser(5);
    Http.Response r = h.reserve(UUID.randomUUID().toString(), user.getString("id"), "free", 512, 512, 30, 1);
    assertThat(r.status()).isEqualTo(402);
    assertThat(r.json().getString("code")).isEqualTo("insufficient_credits");
    assertThat(r.json().getString("detail")).contains("costs 10 credits").contains("balance is 5");
    assertThat(h.balance(user.getString("key")).getLong("reserved")).isZero();
  }

  @Test
  void succeededCapturesOnceEvenWhenTheEventIsReplayed() {
    JsonObject user = fundedUser(100);
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 1024, 1024, 30, 2).status()).isEqualTo(201);
    JsonObject held = h.balance(user.getString("key"));
    assertThat(held.getLong("available")).isEqualTo(20);
    assertThat(held.getLong("reserved")).isEqualTo(80);
    // the router retries the same reservation: it is not held twice
    assertThat(h.reserve(job, user.getString("id"), "free", 1024, 1024, 30, 2).status()).isEqualTo(201);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(20);

    h.publish("job.succeeded", job, user.getString("id"));
    awaitBalance(user, b -> b.getLong("reserved") == 0);
    h.publish("job.failed", job, user.getString("id"));
    settledUpTo(user, job);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(20);
    assertThat(count("SELECT count(*) FROM payments.ledger_transactions WHERE ref = 'capture:" + job + "'")).isOne();
    assertThat(count("SELECT count(*) FROM payments.ledger_transactions WHERE ref = 'release:" + job + "'")).isZero();
  }

  @Test
  void failedAndCanceledJobsGiveTheCreditsBack() {
    JsonObject user = fundedUser(30);
    String failed = UUID.randomUUID().toString();
    String canceled = UUID.randomUUID().toString();
    assertThat(h.reserve(failed, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    assertThat(h.reserve(canceled, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(10);
    h.publish("job.failed", failed, user.getString("id"));
    h.publish("job.canceled", canceled, user.getString("id"));
    h.publish("job.canceled", canceled, user.getString("id"));
    awaitBalance(user, b -> b.getLong("available") == 30 && b.getLong("reserved") == 0);
  }

  @Test
  void aJobThatSucceedsAfterItsHoldWasGivenBackIsChargedOnce() {
    JsonObject user = fundedUser(30);
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    h.publish("job.failed", job, user.getString("id"));
    awaitBalance(user, b -> b.getLong("available") == 30 && b.getLong("reserved") == 0);
    // an operator re-ran the failed job and it succeeded: it is charged from the balance
    h.publish("job.succeeded", job, user.getString("id"));
    awaitBalance(user, b -> b.getLong("available") == 20);
    h.publish("job.succeeded", job, user.getString("id"));
    settledUpTo(user, job);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(20);
    assertThat(count("SELECT count(*) FROM payments.ledger_transactions WHERE ref = 'late-capture:" + job + "'"))
        .isOne();
    JsonArray ledger = h.billing.get("/v1/billing/ledger?limit=20", user.getString("key")).json().getJsonArray("items");
    assertThat(ledger.stream().map(JsonObject.class::cast).filter(e -> job.equals(e.getString("job_id"))
        && e.getString("kind").equals("late_capture"))).singleElement()
        .satisfies(e -> assertThat(e.getLong("amount")).isEqualTo(-10));
    assertConsistent();
  }

  @Test
  void aLateChargeTakesNoMoreThanTheBalanceHolds() {
    JsonObject user = fundedUser(10);
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    h.publish("job.failed", job, user.getString("id"));
    awaitBalance(user, b -> b.getLong("available") == 10 && b.getLong("reserved") == 0);
    assertThat(h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", -8).put("reason", "spent elsewhere")).status())
        .isEqualTo(201);
    h.publish("job.succeeded", job, user.getString("id"));
    awaitBalance(user, b -> b.getLong("available") == 0);
    assertThat(h.query("SELECT detail->>'charged' FROM payments.ledger_transactions WHERE ref = 'late-capture:"
        + job + "'")).isEqualTo("2");
    assertConsistent();
  }

  @Test
  void anAdjustmentCreditsTheUsersAccountWhateverTheCaseOfTheId() {
    JsonObject user = fundedUser(5);
    Http.Response upper = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id").toUpperCase()).put("amount", 7).put("reason", "goodwill"));
    assertThat(upper.status()).as(upper.body()).isEqualTo(201);
    assertThat(upper.json().getString("user_id")).isEqualTo(user.getString("id"));
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(12);
    Http.Response urn = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", "urn:uuid:" + user.getString("id")).put("amount", 7).put("reason", "goodwill"));
    assertThat(urn.status()).as(urn.body()).isEqualTo(400);
    assertThat(urn.json().getString("detail")).contains("/user_id");
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(12);
    assertConsistent();
  }

  @Test
  void anAdjustmentRetriedWithItsIdempotencyKeyPostsOnce() {
    JsonObject user = fundedUser(5);
    String key = "ticket-" + UUID.randomUUID();
    JsonObject body = new JsonObject().put("user_id", user.getString("id")).put("amount", 5000)
        .put("reason", "goodwill for ticket");
    Http.Response first = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, body,
        "Idempotency-Key", key);
    assertThat(first.status()).as(first.body()).isEqualTo(201);
    assertThat(first.headers().firstValue("Idempotent-Replayed").orElse(null)).isEqualTo("false");
    // the operator's client retries after a timeout although the first request committed
    Http.Response retried = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, body,
        "Idempotency-Key", key);
    assertThat(retried.status()).as(retried.body()).isEqualTo(201);
    assertThat(retried.headers().firstValue("Idempotent-Replayed").orElse(null)).isEqualTo("true");
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(5005);
    // the same key for another amount is refused, not posted
    Http.Response other = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY,
        body.copy().put("amount", 7000), "Idempotency-Key", key);
    assertThat(other.status()).as(other.body()).isEqualTo(409);
    assertThat(other.json().getString("code")).isEqualTo("idempotency_key_reused");
    // a debit replayed after the balance dropped is still the same adjustment, not "insufficient"
    String debitKey = "debit-" + UUID.randomUUID();
    JsonObject debit = new JsonObject().put("user_id", user.getString("id")).put("amount", -5000)
        .put("reason", "clawback");
    assertThat(h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, debit, "Idempotency-Key", debitKey)
        .status()).isEqualTo(201);
    Http.Response debitAgain = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, debit,
        "Idempotency-Key", debitKey);
    assertThat(debitAgain.status()).as(debitAgain.body()).isEqualTo(201);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(5);
    // without a key every request is its own adjustment
    JsonObject plain = new JsonObject().put("user_id", user.getString("id")).put("amount", 1).put("reason", "x");
    h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, plain);
    h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, plain);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(7);
    assertConsistent();
  }

  @Test
  void anAdjustmentOfNothingIsRefusedNamingTheAmount() {
    JsonObject user = fundedUser(5);
    Http.Response zero = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", 0).put("reason", "nothing"));
    assertThat(zero.status()).as(zero.body()).isEqualTo(400);
    assertThat(zero.json().getString("detail")).contains("/amount");
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(5);
  }

  @Test
  void reservationsAndReleasesOfOneUserRunConcurrentlyWithoutDeadlocks() throws Exception {
    // reserve() locks the user's available balance, then the reserved one; release() posted its
    // entries the other way round, so the two waited on each other and Postgres aborted one
    JsonObject user = fundedUser(100_000);
    List<String> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int i = 0; i < 40; i++) {
      String job = UUID.randomUUID().toString();
      assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
      held.add(job);
    }
    List<java.util.concurrent.Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String old = held.get(i);
      calls.add(() -> h.reserve(UUID.randomUUID().toString(), user.getString("id"), "free", 512, 512, 30, 1)
          .status());
      calls.add(() -> release(old).status());
    }
    assertThat(concurrently(8, calls)).allMatch(status -> status == 200 || status == 201);
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getLong("available") + balance.getLong("reserved")).isEqualTo(100_000);
    assertConsistent();
  }

  @Test
  void theRouterReleasesAReservationWhoseJobWasNotStored() {
    JsonObject user = fundedUser(10);
    String job = UUID.randomUUID().toString();
    assertThat(h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    Http.Response released = h.billing.send("POST", "/internal/v1/reservations/" + job + "/release", null, null,
        "X-Internal-Token", BillingHarness.INTERNAL_TOKEN);
    assertThat(released.json().getBoolean("released")).isTrue();
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(10);
    assertThat(h.billing.send("POST", "/internal/v1/reservations/" + job + "/release", null, null).status())
        .isEqualTo(401);
  }

  @Test
  void aReleaseBeforeItsReservationVoidsTheJobSoTheReservationHoldsNothing() {
    // the router gave up waiting for a reservation and released it before it was made
    JsonObject user = fundedUser(30);
    String job = UUID.randomUUID().toString();
    JsonObject released = release(job).json();
    assertThat(released.getBoolean("voided")).isTrue();
    assertThat(released.getBoolean("released")).isFalse();
    Http.Response late = h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1);
    assertThat(late.status()).as(late.body()).isEqualTo(409);
    assertThat(late.json().getString("code")).isEqualTo("reservation_voided");
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(30);
    assertThat(h.balance(user.getString("key")).getLong("reserved")).isZero();
    // idempotent: a second release neither releases nor voids anything
    JsonObject again = release(job).json();
    assertThat(again.getBoolean("voided")).isFalse();
    assertThat(again.getBoolean("released")).isFalse();
    assertConsistent();
  }

  @Test
  void aReservationInFlightWhileItsJobIsReleasedHoldsNothing() throws Exception {
    JsonObject user = fundedUser(30);
    String job = UUID.randomUUID().toString();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (java.sql.Connection lock = h.connection()) {
      lock.setAutoCommit(false);
      try (var s = lock.createStatement()) {
        // a reservation posts its ledger transaction after it looked for the job's row and before
        // it inserts it: held here, it has seen no row when the release voids the job
        s.execute("LOCK TABLE payments.ledger_transactions IN SHARE MODE");
      }
      Future<Http.Response> reservation = pool.submit(() -> h.reserve(job, user.getString("id"), "free", 512, 512,
          30, 1));
      awaitLockWaiters("ledger_transactions");
      // the release voids the job; once the lock goes, the reservation's row loses to the voided one
      // on the primary key and its whole transaction rolls back
      assertThat(release(job).json().getBoolean("voided")).isTrue();
      lock.rollback();
      Http.Response late = reservation.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(late.status()).as(late.body()).isEqualTo(409);
      assertThat(late.json().getString("code")).isEqualTo("reservation_voided");
    } finally {
      pool.shutdownNow();
    }
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getLong("available")).isEqualTo(30);
    assertThat(balance.getLong("reserved")).isZero();
    assertConsistent();
  }

  @Test
  void reservationsRacingTheirOwnReleasesNeverLeaveCreditsHeld() throws Exception {
    // whichever comes first, a job the router released ends with nothing held
    JsonObject user = fundedUser(10_000);
    List<java.util.concurrent.Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String job = UUID.randomUUID().toString();
      calls.add(() -> h.reserve(job, user.getString("id"), "free", 512, 512, 30, 1).status());
      calls.add(() -> release(job).status());
    }
    assertThat(concurrently(8, calls)).allMatch(status -> status == 200 || status == 201 || status == 409);
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getLong("reserved")).isZero();
    assertThat(balance.getLong("available")).isEqualTo(10_000);
    assertConsistent();
  }

  @Test
  void fiftyConcurrentReservationsAgainstTenJobsOfCreditsAcceptExactlyTen() throws Exception {
    JsonObject user = fundedUser(100);
    List<java.util.concurrent.Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(() -> h.reserve(UUID.randomUUID().toString(), user.getString("id"), "free", 512, 512, 30, 1)
          .status());
    }
    List<Integer> statuses = concurrently(50, calls);
    assertThat(statuses.stream().filter(status -> status == 201)).hasSize(10);
    assertThat(statuses.stream().filter(status -> status == 402)).hasSize(40);
    JsonObject balance = h.balance(user.getString("key"));
    assertThat(balance.getLong("available")).isZero();
    assertThat(balance.getLong("reserved")).isEqualTo(100);
    assertConsistent();
  }

  @Test
  void theLedgerIsAppendOnlyAndNeverTakesAUserBelowZero() {
    JsonObject user = fundedUser(10);
    String account = "user:" + user.getString("id");
    assertThat(sqlError("UPDATE payments.ledger_entries SET amount = amount + 1000 WHERE account = '" + account + "'"))
        .contains("append-only");
    assertThat(sqlError("DELETE FROM payments.ledger_transactions WHERE user_id = '" + user.getString("id") + "'"))
        .contains("append-only");
    assertThat(h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", -11).put("reason", "too much")).status()).isEqualTo(409);
    assertThat(h.balance(user.getString("key")).getLong("available")).isEqualTo(10);
  }

  @Test
  void theLedgerIsPaginatedNewestFirstAndShowsOnlyTheCallersOwnEntries() {
    JsonObject user = fundedUser(50);
    for (int i = 0; i < 4; i++) {
      h.reserve(UUID.randomUUID().toString(), user.getString("id"), "free", 512, 512, 30, 1);
    }
    JsonObject first = h.billing.get("/v1/billing/ledger?limit=3", user.getString("key")).json();
    assertThat(first.getJsonArray("items")).hasSize(3);
    assertThat(first.getJsonArray("items").getJsonObject(0).getString("kind")).isEqualTo("reserve");
    assertThat(first.getJsonArray("items").getJsonObject(0).getLong("amount")).isEqualTo(-10);
    JsonObject second = h.billing.get("/v1/billing/ledger?limit=3&cursor=" + first.getString("next_cursor"),
        user.getString("key")).json();
    JsonArray rest = second.getJsonArray("items");
    assertThat(rest).hasSize(2);
    assertThat(rest.getJsonObject(1).getString("kind")).isEqualTo("adjustment");
    assertThat(second.getString("next_cursor")).isNull();

    JsonObject other = h.newUser();
    assertThat(h.billing.get("/v1/billing/ledger", other.getString("key")).json().getJsonArray("items")).isEmpty();
    assertThat(h.billing.get("/v1/billing/reconciliation", other.getString("key")).status()).isEqualTo(403);
  }

  @Test
  void reconciliationProvesBalancesEqualTheSumOfEntries() {
    fundedUser(10);
    assertConsistent();
    // a balance edited behind the ledger's back is caught
    JsonObject user = fundedUser(10);
    String account = "user:" + user.getString("id");
    h.query("UPDATE payments.balances SET amount = amount + 5 WHERE account = '" + account + "' RETURNING 1");
    JsonObject report = h.billing.get("/v1/billing/reconciliation", BillingHarness.ADMIN_KEY).json();
    assertThat(report.getBoolean("consistent")).isFalse();
    assertThat(report.getJsonArray("mismatched_balances").encode()).contains(account);
    h.query("UPDATE payments.balances SET amount = amount - 5 WHERE account = '" + account + "' RETURNING 1");
    assertConsistent();
  }

  /** Runs the calls on {@code threads} threads at once; their answers' statuses, in order. */
  private static List<Integer> concurrently(int threads, List<java.util.concurrent.Callable<Integer>> calls)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> call : pool.invokeAll(calls)) {
        statuses.add(call.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      return statuses;
    } finally {
      pool.shutdownNow();
    }
  }

  private static Http.Response release(String job) {
    Http.Response r = h.billing.send("POST", "/internal/v1/reservations/" + job + "/release", null, null,
        "X-Internal-Token", BillingHarness.INTERNAL_TOKEN);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r;
  }

  /** Waits until a statement of the service on {@code table} waits for a lock. */
  private static void awaitLockWaiters(String table) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (Integer.parseInt(h.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
          + "AND wait_event_type = 'Lock' AND query LIKE '%" + table + "%'")) > 0) {
        return;
      }
      sleep(20);
    }
    throw new AssertionError("no statement waited for the lock");
  }

  private static void assertConsistent() {
    JsonObject report = h.billing.get("/v1/billing/reconciliation", BillingHarness.ADMIN_KEY).json();
    assertThat(report.getBoolean("consistent")).as(report.encodePrettily()).isTrue();
    assertThat(report.getLong("sum_of_all_entries")).isZero();
  }

  /** A new user with {@code credits} granted by an operator adjustment. */
  private static JsonObject fundedUser(long credits) {
    JsonObject user = h.newUser();
    Http.Response r = h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", credits).put("reason", "test funds"));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return user;
  }

  /**
   * Waits until the settlement consumer has passed every event published so far under {@code key}:
   * a marker reservation is released by an event on the same partition, after them.
   */
  private static void settledUpTo(JsonObject user, String key) {
    String marker = UUID.randomUUID().toString();
    long before = h.balance(user.getString("key")).getLong("available");
    h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", 10).put("reason", "marker"));
    assertThat(h.reserve(marker, user.getString("id"), "free", 512, 512, 30, 1).status()).isEqualTo(201);
    h.publish("job.failed", marker, user.getString("id"), key);
    awaitBalance(user, b -> b.getLong("reserved") == 0 && b.getLong("available") == before + 10);
    h.billing.post("/v1/billing/adjustments", BillingHarness.ADMIN_KEY, new JsonObject()
        .put("user_id", user.getString("id")).put("amount", -10).put("reason", "marker back"));
  }

  private static void awaitBalance(JsonObject user, java.util.function.Predicate<JsonObject> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonObject last = null;
    while (System.nanoTime() < deadline) {
      last = h.balance(user.getString("key"));
      if (done.test(last)) {
        return;
      }
      sleep(50);
    }
    throw new AssertionError("balance never reached the expected state: " + last);
  }

  private static long count(String sql) {
    return Long.parseLong(h.query(sql));
  }

  private static String sqlError(String sql) {
    try {
      h.query(sql);
      return "";
    } catch (IllegalStateException e) {
      return String.valueOf(e.getCause().getMessage());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
