package ai.pingvas.payments.store;

import ai.pingvas.payments.domain.Accounts;
import ai.pingvas.payments.domain.Allowance;
import ai.pingvas.payments.domain.Tiers;
import ai.pingvas.payments.stripe.WebhookEvent;
import ai.pingvas.platform.db.AdvisoryLock;
import ai.pingvas.platform.db.PageCursor;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link BillingStore} on Postgres: every statement of the ledger is in this class. */
public final class PgBillingStore implements BillingStore {
  private static final Logger LOG = LoggerFactory.getLogger(PgBillingStore.class);
  private static final String POST_TXN = "INSERT INTO ledger_transactions (id, kind, user_id, ref, detail) "
      + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ref) DO NOTHING RETURNING id";
  private static final String FIND_TXN = "SELECT user_id, detail FROM ledger_transactions WHERE ref = $1";
  private static final String POST_ENTRIES = "INSERT INTO ledger_entries (txn_id, account, amount) "
      + "SELECT $1, a, m FROM unnest($2::text[], $3::bigint[]) AS t(a, m)";
  private static final String ENSURE_BALANCE = "INSERT INTO balances (account, amount) VALUES ($1, 0) "
      + "ON CONFLICT (account) DO NOTHING";
  private static final String LOCK_BALANCE = "SELECT amount FROM balances WHERE account = $1 FOR UPDATE";
  private static final String BALANCES = "SELECT account, amount FROM balances WHERE account = ANY($1::text[])";
  private static final String FIND_RESERVATION = "SELECT amount, status FROM reservations WHERE job_id = $1";
  private static final String VOID_RESERVATION = "INSERT INTO reservations (job_id, amount, status, expires_at, "
      + "settled_at) VALUES ($1, 0, 'voided', now(), now()) ON CONFLICT (job_id) DO NOTHING";
  private static final String PURGE_VOIDED = "DELETE FROM reservations WHERE status = 'voided' AND settled_at < $1";
  private static final String INSERT_RESERVATION = "INSERT INTO reservations (job_id, user_id, amount, status, "
      + "expires_at) VALUES ($1, $2, $3, 'open', $4)";
  private static final String SETTLE = "UPDATE reservations SET status = $2, settled_at = now() "
      + "WHERE job_id = $1 AND status = 'open' RETURNING user_id, amount";
  private static final String GIVEN_BACK = "SELECT user_id, amount FROM reservations WHERE job_id = $1 "
      + "AND status IN ('released', 'expired')";
  private static final String OVERDUE = "SELECT job_id FROM reservations WHERE status = 'open' AND expires_at < now() "
      + "ORDER BY expires_at LIMIT $1";
  private static final String LEDGER_PAGE = """
      SELECT t.id, t.kind, t.detail, t.created_at,
             coalesce(sum(e.amount) FILTER (WHERE e.account = $2), 0) AS available_change,
             coalesce(sum(e.amount) FILTER (WHERE e.account = $3), 0) AS reserved_change
      FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id
      WHERE t.user_id = $1 AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5))
      GROUP BY t.id ORDER BY t.created_at DESC, t.id DESC LIMIT $6""";
  private static final String RECORD_EVENT = "INSERT INTO stripe_events (id, type, created) VALUES ($1, $2, $3) "
      + "ON CONFLICT (id) DO NOTHING";
  /**
   * Stripe's event times have one-second resolution and its deliveries are unordered: of two events
   * of one subscription in the same second, the one further along the subscription's life wins
   * (incomplete, trialing, active, past_due, unpaid/paused, then canceled/incomplete_expired, which
   * are final), so a creation delivered after its activation, or an update after the deletion, of
   * the same second changes nothing.
   */
  private static final String STAGE = "CASE %s WHEN 'incomplete' THEN 0 WHEN 'trialing' THEN 1 WHEN 'active' THEN 2 "
      + "WHEN 'past_due' THEN 3 WHEN 'unpaid' THEN 4 WHEN 'paused' THEN 4 ELSE 5 END";
  private static final String UPSERT_SUBSCRIPTION = """
      INSERT INTO subscriptions (id, user_id, status, tier, event_created) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, tier = EXCLUDED.tier,
        event_created = EXCLUDED.event_created, updated_at = now()
      WHERE subscriptions.event_created < EXCLUDED.event_created
         OR (subscriptions.event_created = EXCLUDED.event_created AND %s <= %s)
      RETURNING id""".formatted(STAGE.formatted("subscriptions.status"), STAGE.formatted("EXCLUDED.status"));
  private static final String PURCHASE_OF_INTENT = """
      SELECT t.user_id, (SELECT e.amount FROM ledger_entries e WHERE e.txn_id = t.id AND e.account = 'user:' || t.user_id)
             AS credits, (t.detail->>'amount_total')::bigint AS amount_total
      FROM ledger_transactions t WHERE t.kind = 'purchase' AND t.detail->>'payment_intent' = $1""";
  private static final String DISPUTE_WITHDRAWAL = "SELECT user_id, (detail->>'taken')::bigint AS taken "
      + "FROM ledger_transactions WHERE ref = $1 AND kind = 'dispute'";
  private static final String REFUNDED_CREDITS = "SELECT coalesce(max((detail->>'credits_owed')::bigint), 0) AS owed "
      + "FROM ledger_transactions WHERE kind = 'refund' AND detail->>'payment_intent' = $1";
  private static final String USER_SUBSCRIPTIONS = "SELECT tier, status FROM subscriptions WHERE user_id = $1";
  private static final String RECONCILE_BALANCES = """
      WITH sums AS (SELECT account, sum(amount) AS total FROM ledger_entries GROUP BY account)
      SELECT coalesce(b.account, s.account) AS account, coalesce(b.amount, 0) AS balance, coalesce(s.total, 0) AS total
      FROM balances b FULL OUTER JOIN sums s ON s.account = b.account
      WHERE coalesce(b.amount, 0) <> coalesce(s.total, 0)""";
  private static final String RECONCILE_TRANSACTIONS =
      "SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(amount) <> 0";
  private static final String RECONCILE_NEGATIVE =
      "SELECT account FROM balances WHERE amount < 0 AND account NOT LIKE 'system:%'";
  private static final String RECONCILE_HOLDS = """
      WITH holds AS (SELECT 'user:' || user_id || ':reserved' AS account, sum(amount) AS total
                     FROM reservations WHERE status = 'open' GROUP BY user_id)
      SELECT coalesce(b.account, h.account) AS account FROM
        (SELECT * FROM balances WHERE account LIKE '%:reserved') b FULL OUTER JOIN holds h ON h.account = b.account
      WHERE coalesce(b.amount, 0) <> coalesce(h.total, 0)""";
  private static final String RECONCILE_TOTALS = "SELECT count(*) AS entries, coalesce(sum(amount), 0) AS total, "
      + "count(DISTINCT account) AS accounts, count(DISTINCT txn_id) AS transactions FROM ledger_entries";

  private final Pool pool;

  public PgBillingStore(Pool pool) {
    this.pool = pool;
  }

  private record Entry(String account, long amount) {
  }

  @Override
  public Future<Reserved> reserve(String jobId, String userId, long amount, Instant expiresAt, Allowance.Grant grant) {
    return pool.withTransaction(conn -> lockAvailable(conn, userId)
        .compose(available -> applyGrant(conn, userId, grant, available))
        .compose(available -> conn.preparedQuery(FIND_RESERVATION).execute(Tuple.of(UUID.fromString(jobId)))
            .compose(rows -> {
              if (rows.size() > 0) {
                Row row = rows.iterator().next();
                return Future.succeededFuture("voided".equals(row.getString("status"))
                    ? Reserved.voidedFor(amount, available)
                    : new Reserved(true, row.getLong("amount"), available, false));
              }
              if (available < amount) {
                return Future.succeededFuture(new Reserved(false, amount, available, false));
              }
              return post(conn, "reserve", userId, "reserve:" + jobId, new JsonObject().put("job_id", jobId),
                  List.of(new Entry(Accounts.available(userId), -amount), new Entry(Accounts.reserved(userId), amount)))
                  .compose(v -> conn.preparedQuery(INSERT_RESERVATION).execute(Tuple.of(UUID.fromString(jobId),
                      UUID.fromString(userId), amount, expiresAt.atOffset(ZoneOffset.UTC))))
                  .map(v -> new Reserved(true, amount, available - amount, false));
            })))
        // a release voided the job while this reservation waited for the balance lock: its row won
        // the primary key (only a void inserts a row without the balance lock) and this transaction
        // rolled back, holding nothing
        .recover(err -> err instanceof PgException pg && "reservations_pkey".equals(pg.getConstraint())
            ? Future.succeededFuture(Reserved.voidedFor(amount, 0)) : Future.failedFuture(err));
  }

  @Override
  public Future<Boolean> capture(String jobId) {
    return settle(jobId, "captured", "capture", (userId, amount) -> List.of(
        new Entry(Accounts.reserved(userId), -amount), new Entry(Accounts.REVENUE, amount)));
  }

  @Override
  public Future<LateCapture> captureLate(String jobId) {
    return pool.withTransaction(conn -> conn.preparedQuery(GIVEN_BACK).execute(Tuple.of(UUID.fromString(jobId)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(null);
          }
          Row row = rows.iterator().next();
          String userId = row.getUUID("user_id").toString();
          long amount = row.getLong("amount");
          return lockAvailable(conn, userId).compose(available -> {
            long charged = Math.min(amount, Math.max(0, available));
            List<Entry> entries = charged == 0 ? List.of()
                : List.of(new Entry(Accounts.available(userId), -charged), new Entry(Accounts.REVENUE, charged));
            return post(conn, "late_capture", userId, "late-capture:" + jobId, new JsonObject().put("job_id", jobId)
                .put("price", amount).put("charged", charged), entries)
                .map(posted -> posted ? new LateCapture(userId, amount, charged) : null);
          });
        }));
  }

  @Override
  public Future<Boolean> release(String jobId, boolean expired) {
    // entries in the order reserve() locks their balances, available first: in the other order a
    // release and a new reservation of the same user waited on each other (a deadlock: one aborted)
    return settle(jobId, expired ? "expired" : "released", expired ? "expire" : "release", this::giveBack);
  }

  @Override
  public Future<Release> releaseOrVoid(String jobId) {
    // READ COMMITTED: when the void conflicts with a reservation that committed meanwhile (its insert
    // waited for it), the second release is a new statement that sees and releases it
    return pool.withTransaction(conn -> releaseIn(conn, jobId).compose(released -> released
        ? Future.succeededFuture(Release.RELEASED)
        : conn.preparedQuery(VOID_RESERVATION).execute(Tuple.of(UUID.fromString(jobId))).compose(inserted ->
            inserted.rowCount() == 1 ? Future.succeededFuture(Release.VOIDED)
                : releaseIn(conn, jobId).map(again -> again ? Release.RELEASED : Release.NOTHING_OPEN))));
  }

  private Future<Boolean> releaseIn(SqlConnection conn, String jobId) {
    return settle(conn, jobId, "released", "release", this::giveBack);
  }

  @Override
  public Future<Integer> purgeVoided(Instant before) {
    return pool.preparedQuery(PURGE_VOIDED).execute(Tuple.of(before.atOffset(ZoneOffset.UTC))).map(r -> r.rowCount());
  }

  /** A release's entries, in the order reserve() locks their balances (available first). */
  private List<Entry> giveBack(String userId, long amount) {
    return List.of(new Entry(Accounts.available(userId), amount), new Entry(Accounts.reserved(userId), -amount));
  }

  private Future<Boolean> settle(String jobId, String status, String kind,
      BiFunction<String, Long, List<Entry>> entries) {
    return pool.withTransaction(conn -> settle(conn, jobId, status, kind, entries));
  }

  private Future<Boolean> settle(SqlConnection conn, String jobId, String status, String kind,
      BiFunction<String, Long, List<Entry>> entries) {
    return conn.preparedQuery(SETTLE).execute(Tuple.of(UUID.fromString(jobId), status))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          Row row = rows.iterator().next();
          String userId = row.getUUID("user_id").toString();
          long amount = row.getLong("amount");
          return post(conn, kind, userId, kind + ":" + jobId, new JsonObject().put("job_id", jobId),
              entries.apply(userId, amount));
        });
  }

  @Override
  public Future<List<String>> overdue(int limit) {
    return pool.preparedQuery(OVERDUE).execute(Tuple.of(limit)).map(rows -> {
      List<String> ids = new ArrayList<>();
      rows.forEach(row -> ids.add(row.getUUID("job_id").toString()));
      return ids;
    });
  }

  @Override
  public Future<Balance> balance(String userId, Allowance.Grant grant) {
    Future<Void> granted = grant == null ? Future.succeededFuture()
        : pool.withTransaction(conn -> lockAvailable(conn, userId).compose(a -> applyGrant(conn, userId, grant, a)))
            .mapEmpty();
    return granted.compose(v -> pool.preparedQuery(BALANCES).execute(Tuple.of(
        new String[] {Accounts.available(userId), Accounts.reserved(userId)})).map(rows -> {
          long available = 0;
          long reserved = 0;
          for (Row row : rows) {
            if (row.getString("account").equals(Accounts.available(userId))) {
              available = row.getLong("amount");
            } else {
              reserved = row.getLong("amount");
            }
          }
          return new Balance(available, reserved);
        }));
  }

  @Override
  public Future<JsonObject> ledger(String userId, String cursor, int limit) {
    PageCursor after = cursor == null ? null : PageCursor.decode(cursor);
    Tuple args = Tuple.of(UUID.fromString(userId), Accounts.available(userId), Accounts.reserved(userId),
        after == null ? null : after.createdAt(), after == null ? null : after.id(), limit + 1);
    return pool.preparedQuery(LEDGER_PAGE).execute(args).map(rows -> {
      JsonArray items = new JsonArray();
      String next = null;
      int i = 0;
      for (Row row : rows) {
        if (i++ == limit) {
          JsonObject last = items.getJsonObject(items.size() - 1);
          next = PageCursor.after(Instant.parse(last.getString("created_at")), last.getString("id")).encode();
          break;
        }
        Object detail = row.getValue("detail");
        items.add(new JsonObject().put("id", row.getUUID("id").toString()).put("kind", row.getString("kind"))
            .put("amount", row.getLong("available_change")).put("reserved", row.getLong("reserved_change"))
            .put("job_id", (detail instanceof JsonObject d ? d : new JsonObject()).getString("job_id"))
            .put("created_at", row.getOffsetDateTime("created_at").toInstant().toString()));
      }
      return new JsonObject().put("items", items).put("next_cursor", next);
    });
  }

  @Override
  public Future<Boolean> adjust(String userId, long amount, String reason, String ref) {
    JsonObject detail = new JsonObject().put("reason", reason).put("amount", amount);
    // A replay is recognised under the balance lock and before the balance check: the first request
    // (which took the lock first) may have committed while this one waited, and a debit it posted
    // must not make its replay "insufficient".
    return pool.withTransaction(conn -> lockAvailable(conn, userId).compose(available ->
        replayed(conn, ref, userId, detail).compose(replay -> {
          if (replay) {
            return Future.succeededFuture(true);
          }
          if (available + amount < 0) {
            return Future.failedFuture(ApiException.conflict("insufficient_credits",
                "the balance is " + available + "; it cannot go below zero"));
          }
          return post(conn, "adjustment", userId, ref, detail,
                  List.of(new Entry(Accounts.ADJUSTMENTS, -amount), new Entry(Accounts.available(userId), amount)))
              .compose(posted -> posted ? Future.succeededFuture(false) : replayed(conn, ref, userId, detail));
        })));
  }

  /** Whether {@code ref} was posted already with this user and detail; 409 if with others. */
  private static Future<Boolean> replayed(SqlConnection conn, String ref, String userId, JsonObject detail) {
    return conn.preparedQuery(FIND_TXN).execute(Tuple.of(ref)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(false);
      }
      Row row = rows.iterator().next();
      JsonObject posted = row.getJsonObject("detail");
      boolean same = row.getUUID("user_id").toString().equals(userId)
          && detail.getLong("amount").equals(posted.getLong("amount"))
          && detail.getString("reason").equals(posted.getString("reason"));
      return same ? Future.succeededFuture(true) : Future.failedFuture(ApiException.conflict("idempotency_key_reused",
          "this Idempotency-Key was used for another adjustment (" + posted.encode() + ")"));
    });
  }

  @Override
  public Future<JsonObject> reconcile() {
    // One snapshot for every check, so concurrent postings cannot produce a false mismatch.
    return pool.withTransaction(conn -> conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute()
        .compose(v -> conn.query(RECONCILE_BALANCES).execute())
        .compose(mismatched -> conn.query(RECONCILE_TRANSACTIONS).execute()
            .compose(unbalanced -> conn.query(RECONCILE_NEGATIVE).execute()
                .compose(negative -> conn.query(RECONCILE_HOLDS).execute()
                    .compose(holds -> conn.query(RECONCILE_TOTALS).execute().map(totals -> {
                      Row t = totals.iterator().next();
                      JsonArray badBalances = new JsonArray();
                      mismatched.forEach(r -> badBalances.add(new JsonObject().put("account", r.getString("account"))
                          .put("balance", r.getLong("balance")).put("sum_of_entries", r.getLong("total"))));
                      JsonArray badTxns = new JsonArray();
                      unbalanced.forEach(r -> badTxns.add(r.getUUID("txn_id").toString()));
                      JsonArray below = new JsonArray();
                      negative.forEach(r -> below.add(r.getString("account")));
                      JsonArray badHolds = new JsonArray();
                      holds.forEach(r -> badHolds.add(r.getString("account")));
                      long total = t.getLong("total");
                      boolean consistent = badBalances.isEmpty() && badTxns.isEmpty() && below.isEmpty()
                          && badHolds.isEmpty() && total == 0;
                      return new JsonObject().put("consistent", consistent).put("entries", t.getLong("entries"))
                          .put("transactions", t.getLong("transactions")).put("accounts", t.getLong("accounts"))
                          .put("sum_of_all_entries", total).put("mismatched_balances", badBalances)
                          .put("unbalanced_transactions", badTxns).put("negative_user_balances", below)
                          .put("holds_not_matching_open_reservations", badHolds)
                          .put("checked_at", Instant.now().toString());
                    }))))));
  }

  @Override
  public Future<Applied> apply(WebhookEvent event, BiFunction<String, String, Future<Void>> setTier) {
    return pool.withTransaction(conn -> conn.preparedQuery(RECORD_EVENT)
        .execute(Tuple.of(event.id(), event.type(), event.created().atOffset(ZoneOffset.UTC)))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.succeededFuture(Applied.DUPLICATE);
          }
          return switch (event.kind()) {
            case PURCHASE -> purchase(conn, event.purchase()).map(Applied.APPLIED);
            case SUBSCRIPTION -> subscription(conn, event, setTier).map(Applied.APPLIED);
            case REFUND -> refund(conn, event.refund(), event.created()).map(Applied.APPLIED);
            case DISPUTE -> event.dispute().reinstated()
                ? reinstate(conn, event.dispute(), event.created()).map(Applied.APPLIED)
                : withdraw(conn, event.dispute(), event.created()).map(Applied.APPLIED);
            case IGNORED -> Future.succeededFuture(Applied.APPLIED);
          };
        }));
  }

  private Future<Boolean> purchase(SqlConnection conn, WebhookEvent.Purchase p) {
    return post(conn, "purchase", p.userId(), "purchase:" + p.sessionId(), new JsonObject()
            .put("checkout_session", p.sessionId()).put("amount_total", p.amountTotal()).put("currency", p.currency())
            .put("payment_intent", p.paymentIntent()),
        List.of(new Entry(Accounts.STRIPE, -p.credits()), new Entry(Accounts.available(p.userId()), p.credits())));
  }

  /**
   * Takes a refunded purchase's credits back: the refunded share of the charge (cumulative, so
   * partial refunds add up and a redelivered or older event takes nothing twice).
   */
  private Future<Void> refund(SqlConnection conn, WebhookEvent.Refund r, Instant created) {
    return takeBack(conn, r.paymentIntent(), created,
        "no purchase paid by " + r.paymentIntent() + " for the refund of charge " + r.chargeId(),
        "refund", "refund:" + r.chargeId() + ":" + r.amountRefunded(),
        new JsonObject().put("payment_intent", r.paymentIntent()).put("charge", r.chargeId())
            .put("amount_refunded", r.amountRefunded()),
        (credits, paid, refundsOwed) -> {
          // the refunded share of the credits, rounded down: a partial refund never takes more than paid for
          long owed = Math.min(credits, Math.multiplyExact(credits, r.amountRefunded()) / r.amount());
          return owed > refundsOwed ? new Owed(owed, owed - refundsOwed) : null;
        });
  }

  /**
   * A dispute's funds were withdrawn: takes the disputed share of its purchase's credits (the
   * dispute's amount of what the purchase cost, rounded down, never more than refunds left). Once
   * per dispute, recorded even when nothing is left to take, so its reinstatement finds it.
   */
  private Future<Void> withdraw(SqlConnection conn, WebhookEvent.Dispute d, Instant created) {
    return takeBack(conn, d.paymentIntent(), created, "no purchase paid by " + d.paymentIntent() + " for dispute "
            + d.disputeId(), "dispute", withdrawalRef(d),
        new JsonObject().put("stage", "funds_withdrawn").put("dispute", d.disputeId()).put("charge", d.chargeId())
            .put("payment_intent", d.paymentIntent()).put("amount", d.amount()),
        (credits, paid, refundsOwed) -> {
          // a dispute may differ from the charge (currency moves, part of an order): its share, at most all of it
          long share = paid == null || paid <= 0 ? credits
              : Math.multiplyExact(credits, Math.min(d.amount(), paid)) / paid;
          long owed = Math.max(0, Math.min(share, credits - refundsOwed));
          return new Owed(owed, owed);
        });
  }

  /** Credits a refund or dispute owes in all ({@code total}, recorded) and of them still to take ({@code now}). */
  private record Owed(long total, long now) {
  }

  /** How much a refund or dispute owes, from its purchase's credits, what it cost and what refunds owe already. */
  private interface OwedRule {
    /** Null: nothing to record. */
    Owed of(long credits, Long paid, long refundsOwed);
  }

  /**
   * Takes credits of the purchase paid by {@code intent} back, as {@code rule} says, from the
   * available balance and never below zero; what the user already spent is written off (the
   * transaction's {@code written_off}). A purchase not recorded yet is waited for
   * ({@link #notRecordedYet}).
   */
  private Future<Void> takeBack(SqlConnection conn, String intent, Instant created, String missing, String kind,
      String ref, JsonObject detail, OwedRule rule) {
    return conn.preparedQuery(PURCHASE_OF_INTENT).execute(Tuple.of(intent)).compose(rows -> {
      if (rows.size() == 0) {
        return notRecordedYet(created, missing);
      }
      Row purchase = rows.iterator().next();
      String userId = purchase.getUUID("user_id").toString();
      long credits = purchase.getLong("credits");
      Long paid = purchase.getLong("amount_total");
      return lockAvailable(conn, userId).compose(available -> conn.preparedQuery(REFUNDED_CREDITS)
          .execute(Tuple.of(intent)).compose(refunded -> {
            Owed owed = rule.of(credits, paid, refunded.iterator().next().getLong("owed"));
            if (owed == null) {
              return Future.<Void>succeededFuture();
            }
            long taken = Math.min(owed.now(), Math.max(0, available));
            List<Entry> entries = taken == 0 ? List.of()
                : List.of(new Entry(Accounts.available(userId), -taken), new Entry(Accounts.STRIPE, taken));
            return post(conn, kind, userId, ref, detail.put("credits_owed", owed.total()).put("taken", taken)
                .put("written_off", owed.now() - taken), entries).mapEmpty();
          }));
    });
  }

  /**
   * A dispute was won and its funds reinstated: gives back exactly what its withdrawal took (the
   * part written off was spent, so there is nothing of it to return). Once per dispute. Stripe may
   * deliver it before the withdrawal: it is then retried, as a refund of an unrecorded purchase is.
   */
  private Future<Void> reinstate(SqlConnection conn, WebhookEvent.Dispute d, Instant created) {
    return conn.preparedQuery(DISPUTE_WITHDRAWAL).execute(Tuple.of(withdrawalRef(d))).compose(rows -> {
      if (rows.size() == 0) {
        return notRecordedYet(created, "no withdrawal of dispute " + d.disputeId() + " to reinstate");
      }
      Row withdrawal = rows.iterator().next();
      String userId = withdrawal.getUUID("user_id").toString();
      long taken = withdrawal.getLong("taken");
      List<Entry> entries = taken == 0 ? List.of()
          : List.of(new Entry(Accounts.STRIPE, -taken), new Entry(Accounts.available(userId), taken));
      return post(conn, "dispute", userId, "dispute:" + d.disputeId() + ":funds_reinstated", new JsonObject()
          .put("stage", "funds_reinstated").put("dispute", d.disputeId()).put("charge", d.chargeId())
          .put("payment_intent", d.paymentIntent()).put("amount", d.amount()).put("given_back", taken), entries)
          .mapEmpty();
    });
  }

  private static String withdrawalRef(WebhookEvent.Dispute d) {
    return "dispute:" + d.disputeId() + ":funds_withdrawn";
  }

  /**
   * What an event needs (its purchase, a dispute's withdrawal) is not recorded: the event fails, so
   * Stripe delivers it again later. A day after the event there is nothing to wait for (a charge
   * that bought nothing of ours, or a purchase recorded before purchases kept their payment
   * intent): it is recorded without effect.
   */
  private static Future<Void> notRecordedYet(Instant created, String what) {
    if (created.isBefore(Instant.now().minus(Duration.ofDays(1)))) {
      LOG.atWarn().addKeyValue("missing", what).log("Stripe event about nothing recorded here, a day on; ignored");
      return Future.succeededFuture();
    }
    return Future.failedFuture(new IllegalStateException(what + " (yet)"));
  }

  private Future<Void> subscription(SqlConnection conn, WebhookEvent event,
      BiFunction<String, String, Future<Void>> setTier) {
    WebhookEvent.Subscription s = event.subscription();
    UUID user = UUID.fromString(s.userId());
    String tier = s.tier() == null ? "free" : s.tier();
    // One user's subscription events apply one at a time: each reads the user's subscriptions after
    // the one before committed. Without the lock, the events of two subscriptions of one user (an
    // upgrade's new one created, the old one deleted) each read the other's row as it was before it
    // and pushed a tier computed from half the picture; the later PUT won, e.g. free for a studio user.
    return AdvisoryLock.untilCommit(conn, "subscriptions:" + s.userId())
        .compose(locked -> conn.preparedQuery(UPSERT_SUBSCRIPTION).execute(Tuple.of(s.id(), user, s.status(), tier,
            event.created().atOffset(ZoneOffset.UTC))))
        .compose(upserted -> {
          if (upserted.size() == 0) {
            return Future.<Void>succeededFuture(); // older than what we know: delivered out of order
          }
          return conn.preparedQuery(USER_SUBSCRIPTIONS).execute(Tuple.of(user))
              .compose(rows -> setTier.apply(s.userId(), Tiers.best(granting(rows))));
        });
  }

  @Override
  public Future<List<String>> subscribedTiers(String userId) {
    return pool.preparedQuery(USER_SUBSCRIPTIONS).execute(Tuple.of(UUID.fromString(userId))).map(PgBillingStore::granting);
  }

  private static List<String> granting(RowSet<Row> rows) {
    List<String> granted = new ArrayList<>();
    rows.forEach(r -> {
      if (Tiers.grants(r.getString("status"))) {
        granted.add(r.getString("tier"));
      }
    });
    return granted;
  }

  /** Ensures the user's balance row exists and locks it for the rest of the transaction. */
  private Future<Long> lockAvailable(SqlConnection conn, String userId) {
    String account = Accounts.available(userId);
    return conn.preparedQuery(ENSURE_BALANCE).execute(Tuple.of(account))
        .compose(v -> conn.preparedQuery(LOCK_BALANCE).execute(Tuple.of(account)))
        .map(rows -> rows.iterator().next().getLong("amount"));
  }

  private Future<Long> applyGrant(SqlConnection conn, String userId, Allowance.Grant grant, long available) {
    if (grant == null) {
      return Future.succeededFuture(available);
    }
    long topUp = Allowance.topUp(grant, available);
    List<Entry> entries = topUp == 0 ? List.of()
        : List.of(new Entry(Accounts.ALLOWANCE, -topUp), new Entry(Accounts.available(userId), topUp));
    return post(conn, "allowance", userId, grant.ref(), new JsonObject().put("month", grant.month())
        .put("tier", grant.tier()).put("target", grant.target()), entries)
        .map(inserted -> inserted ? available + topUp : available);
  }

  /** Posts a transaction once per {@code ref}; true if it was new. */
  private Future<Boolean> post(SqlConnection conn, String kind, String userId, String ref, JsonObject detail,
      List<Entry> entries) {
    UUID id = UUID.randomUUID();
    return conn.preparedQuery(POST_TXN).execute(Tuple.of(id, kind, UUID.fromString(userId), ref, detail))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          if (entries.isEmpty()) {
            return Future.succeededFuture(true);
          }
          return conn.preparedQuery(POST_ENTRIES).execute(Tuple.of(id,
                  entries.stream().map(Entry::account).toArray(String[]::new),
                  entries.stream().map(Entry::amount).toArray(Long[]::new)))
              .map(true);
        });
  }

  static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }
}
