package ai.pingvas.payments.store;

import ai.pingvas.payments.domain.Allowance;
import ai.pingvas.payments.stripe.WebhookEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.function.BiFunction;

/** The ledger, reservations and applied Stripe events. Every write is one database transaction. */
public interface BillingStore {

  /** A user's spendable and held credits. */
  record Balance(long available, long reserved) {
  }

  /**
   * The outcome of a reservation: accepted (possibly an earlier one for the same job), short of
   * credits, or {@code voided}: the job's reservation was released before it arrived (nothing held).
   */
  record Reserved(boolean accepted, long amount, long available, boolean voided) {
    static Reserved voidedFor(long amount, long available) {
      return new Reserved(false, amount, available, true);
    }
  }

  /**
   * Holds {@code amount} credits for a job, once per job id. Concurrent reservations of one user are
   * serialised on the user's balance row, so they can never spend the same credits twice. A grant
   * (free-allowance mode) is applied first, in the same transaction.
   */
  Future<Reserved> reserve(String jobId, String userId, long amount, Instant expiresAt, Allowance.Grant grant);

  /** Turns an open reservation into revenue; false if it was not open (replays change nothing). */
  Future<Boolean> capture(String jobId);

  /**
   * Charges a job that succeeded after its reservation was given back (released on a failure an
   * operator then re-ran, or expired while retries kept the job alive): the reservation's amount from
   * the available balance, as much of it as the balance holds (never below zero). Once per job;
   * null if the job has no such reservation or was charged late already.
   */
  Future<LateCapture> captureLate(String jobId);

  /** What a late capture charged: the reservation's {@code amount} and the {@code charged} part of it. */
  record LateCapture(String userId, long amount, long charged) {
  }

  /** Gives an open reservation back ({@code expired}: by the sweeper); false if it was not open. */
  Future<Boolean> release(String jobId, boolean expired);

  /** What the router's release did: gave an open reservation back, voided one not made yet, or neither. */
  enum Release { RELEASED, VOIDED, NOTHING_OPEN }

  /**
   * The router's release of a job it did not store: gives its open reservation back or, when the
   * job has no reservation (yet), voids the job so a reservation still in flight holds nothing.
   */
  Future<Release> releaseOrVoid(String jobId);

  /** Deletes voided rows older than {@code before} (no reservation of theirs can still be in flight). */
  Future<Integer> purgeVoided(Instant before);

  /** Job ids of open reservations past their expiry. */
  Future<List<String>> overdue(int limit);

  /** The balance, after applying the grant if one is given. */
  Future<Balance> balance(String userId, Allowance.Grant grant);

  /** A page of the user's transactions, newest first. */
  Future<JsonObject> ledger(String userId, String cursor, int limit);

  /**
   * Credits moved by an operator (admin), positive or negative, never below zero; posted once per
   * {@code ref}. Presented again with the same user, amount and reason it is {@code true} (a replay,
   * nothing posted); with others, 409 {@code idempotency_key_reused}.
   */
  Future<Boolean> adjust(String userId, long amount, String reason, String ref);

  /** The tiers of the user's subscriptions that grant one now (active, trialing, past due). */
  Future<List<String>> subscribedTiers(String userId);

  /** Checks the books: balances = sums of entries, every transaction sums to zero, holds = open reservations. */
  Future<JsonObject> reconcile();

  /** Applied, or already applied before (a redelivery). */
  enum Applied { APPLIED, DUPLICATE }

  /**
   * Applies a verified Stripe event exactly once: its id is recorded in the same transaction as its
   * effect. For a subscription event that is not older than what is known, {@code setTier(userId,
   * tier)} is called inside the transaction, so a failure there rolls everything back and Stripe's
   * retry applies it again.
   */
  Future<Applied> apply(WebhookEvent event, BiFunction<String, String, Future<Void>> setTier);
}
