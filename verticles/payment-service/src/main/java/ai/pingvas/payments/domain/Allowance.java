package ai.pingvas.payments.domain;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * Free-allowance mode (no Stripe key): once per calendar month (UTC) and tier, the first time a
 * user's balance is touched, it is topped up to the tier's allowance. Unused credits do not pile
 * up; an upgrade mid-month tops up to the new tier's allowance at once.
 */
public record Allowance(Map<String, Long> perTier) {

  /** A grant: idempotency reference (one per user, month and tier) and the balance to top up to. */
  public record Grant(String ref, long target, String month, String tier) {
  }

  public Grant grantFor(String userId, String tier, Instant now) {
    String month = YearMonth.from(now.atZone(ZoneOffset.UTC)).toString();
    String effective = perTier.containsKey(tier) ? tier : "free";
    return new Grant("allowance:" + userId + ":" + month + ":" + effective, perTier.get(effective), month, effective);
  }

  /** How much a grant adds to a balance. */
  public static long topUp(Grant grant, long available) {
    return Math.max(0, grant.target() - available);
  }
}
