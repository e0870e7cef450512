package ai.pingvas.users;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.tiers.TierLimits;
import ai.pingvas.users.domain.KeyPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** user-service configuration, typed and checked once at start. */
public record UserSettings(String issuer, String audience, Duration accessTtl, Duration refreshTtl,
    KeyPolicy keyPolicy, String keySecret, Duration keyReloadEvery, int passwordMinLength, int argon2MemoryKib,
    int argon2Iterations, int argon2Parallelism, int authPerIp, int loginPerAccount, Duration loginWindow,
    boolean trustForwardedFor, Map<String, TierLimits> tiers) {
  /** The dev stack's user: fixed, so its data and key survive restarts. */
  public static final String DEV_USER_ID = "00000000-0000-4000-8000-00000000d0e1";

  public static UserSettings from(Config config) {
    Duration accessTtl = config.duration("tokens.access-ttl");
    // A replaced key stays published until the last token it signed has expired (plus clock leeway).
    KeyPolicy policy = new KeyPolicy(config.duration("signing.rotate-every"), config.duration("signing.publish-ahead"),
        accessTtl.plus(Duration.ofMinutes(1)));
    Map<String, TierLimits> tiers = new LinkedHashMap<>();
    for (String tier : new String[] {"free", "pro", "studio"}) {
      String p = "tiers." + tier + ".";
      tiers.put(tier, new TierLimits(tier, config.integer(p + "requests-per-minute"), config.integer(p + "max-running"),
          config.integer(p + "max-queued"), config.integer(p + "max-resolution"),
          config.longValue(p + "storage-quota-mb") * 1024 * 1024));
    }
    return new UserSettings(config.string("auth.issuer"), config.string("auth.audience"), accessTtl,
        config.duration("tokens.refresh-ttl"), policy, config.optionalString("signing.key-secret"),
        config.duration("signing.reload-every"), config.integer("passwords.min-length"),
        config.integer("passwords.argon2-memory-kib"), config.integer("passwords.argon2-iterations"),
        config.integer("passwords.argon2-parallelism"), config.integer("ratelimit.auth-per-ip"),
        config.integer("ratelimit.login-per-account"), config.duration("ratelimit.login-window"),
        config.bool("ratelimit.trust-forwarded-for"), Map.copyOf(tiers));
  }
}
