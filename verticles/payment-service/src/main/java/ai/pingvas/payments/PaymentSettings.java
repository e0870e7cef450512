package ai.pingvas.payments;

import ai.pingvas.payments.domain.Allowance;
import ai.pingvas.payments.domain.PriceTable;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** payment-service configuration, typed and checked once at start. */
public record PaymentSettings(PriceTable prices, Allowance allowance, Stripe stripe, Duration reservationTtl,
    Duration sweepEvery, String usersUrl, String eventsTopic, String eventsGroup) {

  /** A credit pack sold through Checkout. */
  public record Pack(String name, long credits, long cents) {
  }

  /** Stripe settings; {@code apiKey} null means free-allowance mode. */
  public record Stripe(String apiKey, String apiBase, String webhookSecret, Duration webhookTolerance,
      String successUrl, String cancelUrl, String currency, Map<String, Pack> packs, Map<String, String> planPrices) {

    public boolean enabled() {
      return apiKey != null;
    }

    /** Stripe price id → tier. */
    public Map<String, String> priceTiers() {
      Map<String, String> out = new LinkedHashMap<>();
      planPrices.forEach((tier, price) -> out.put(price, tier));
      return out;
    }
  }

  /** True when there is no Stripe key: credits come from the monthly allowance. */
  public boolean allowanceMode() {
    return !stripe.enabled();
  }

  public static PaymentSettings from(Config config) {
    PriceTable prices = new PriceTable(PriceTable.parseModels(config.list("pricing.models")),
        config.longValue("pricing.default"), config.longValue("pricing.reference-pixels"),
        config.longValue("pricing.reference-steps"), config.longValue("pricing.minimum"));
    Allowance allowance = new Allowance(Map.of("free", config.longValue("allowance.free"),
        "pro", config.longValue("allowance.pro"), "studio", config.longValue("allowance.studio")));
    Map<String, Pack> packs = new LinkedHashMap<>();
    for (String entry : config.list("stripe.packs")) {
      String[] parts = entry.split(":");
      if (parts.length != 3) {
        throw new ConfigException("stripe.packs entry '" + entry + "' is not name:credits:cents");
      }
      packs.put(parts[0], new Pack(parts[0], Long.parseLong(parts[1]), Long.parseLong(parts[2])));
    }
    Map<String, String> plans = new LinkedHashMap<>();
    for (String entry : config.list("stripe.plans")) {
      String[] parts = entry.split(":", 2);
      if (parts.length != 2 || !List.of("pro", "studio").contains(parts[0])) {
        throw new ConfigException("stripe.plans entry '" + entry + "' is not pro|studio:<price id>");
      }
      plans.put(parts[0], parts[1]);
    }
    Stripe stripe = new Stripe(config.optionalString("stripe.api-key"), config.string("stripe.api-base"),
        config.optionalString("stripe.webhook-secret"), config.duration("stripe.webhook-tolerance"),
        config.string("stripe.success-url"), config.string("stripe.cancel-url"), config.string("stripe.currency"),
        Map.copyOf(packs), Map.copyOf(plans));
    return new PaymentSettings(prices, allowance, stripe,
        holdTtl(config),
        config.duration("reservations.sweep-every"), config.string("users.url"), config.string("events.topic"),
        config.string("events.group"));
  }

  /**
   * How long a job's credits stay held: as long as the job can live. Every re-queue restarts its
   * queue TTL, so a retried job lives up to max-attempts x (queue.ttl + execution.timeout) plus the
   * backoffs between; a hold of one attempt's span expired under retried jobs, and their success then
   * charged only what the balance still held.
   */
  static Duration holdTtl(Config config) {
    int attempts = config.integer("retry.max-attempts");
    if (attempts < 1) {
      throw new ConfigException("retry.max-attempts must be at least 1, got " + attempts);
    }
    return config.duration("queue.ttl").plus(config.duration("execution.timeout")).multipliedBy(attempts)
        .plus(config.duration("retry.backoff-max").multipliedBy(attempts - 1L));
  }
}
