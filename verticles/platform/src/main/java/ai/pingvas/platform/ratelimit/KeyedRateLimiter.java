package ai.pingvas.platform.ratelimit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Token buckets (Bucket4j) per key: an IP address, an account, a user. Buckets live in this
 * process, so with N replicas behind a balancer a client gets at most N times the limit; the
 * least recently used keys are forgotten beyond {@code maxKeys}, which only ever refills a bucket.
 */
public final class KeyedRateLimiter {
  private final Map<String, Bucket> buckets;

  /** Outcome of one attempt: allowed, or how long to wait. */
  public record Decision(boolean allowed, long retryAfterSeconds) {
  }

  public KeyedRateLimiter(int maxKeys) {
    this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
        return size() > maxKeys;
      }
    };
  }

  /** Takes one token from the bucket of {@code key}, allowing {@code perPeriod} per {@code period}. */
  public Decision tryAcquire(String key, long perPeriod, Duration period) {
    Bucket bucket;
    synchronized (buckets) {
      // the limit is part of the key: a user whose tier changes gets a bucket of the new size
      bucket = buckets.computeIfAbsent(key + "|" + perPeriod + "/" + period.toMillis(), k -> Bucket.builder()
          .addLimit(limit -> limit.capacity(perPeriod).refillGreedy(perPeriod, period)).build());
    }
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return new Decision(true, 0);
    }
    return new Decision(false, Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill()) + 1));
  }
}
