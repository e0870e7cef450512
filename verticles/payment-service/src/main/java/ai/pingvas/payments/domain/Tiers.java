package ai.pingvas.payments.domain;

import java.util.Collection;
import java.util.List;

/** Tier order, for picking the best of a user's active subscriptions. */
public final class Tiers {
  private static final List<String> ORDER = List.of("free", "pro", "studio");

  private Tiers() {
  }

  public static String best(Collection<String> tiers) {
    return tiers.stream().filter(ORDER::contains).max((a, b) -> ORDER.indexOf(a) - ORDER.indexOf(b)).orElse("free");
  }

  /** Stripe subscription statuses that grant the subscribed tier. */
  public static boolean grants(String status) {
    return "active".equals(status) || "trialing".equals(status) || "past_due".equals(status);
  }
}
