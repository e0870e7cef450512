package ai.pingvas.generation.store;

import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;

/**
 * The delay before a failed attempt's job may run again ({@code retry.backoff-base}, {@code
 * retry.backoff-max}): base x 2^(attempt-1), at most max, with jitter (half to all of it).
 */
public record Backoff(Duration base, Duration max) {
  public Backoff {
    if (base.isNegative() || max.compareTo(base) < 0) {
      throw new ConfigException("retry.backoff-max (" + max + ") must be at least retry.backoff-base ("
          + base + "), which must not be negative");
    }
  }
}
