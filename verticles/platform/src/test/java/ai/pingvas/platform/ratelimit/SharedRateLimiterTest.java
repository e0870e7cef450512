package ai.pingvas.platform.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The sliding-window decisions of one replica (the sharing through Postgres is the router's SharedRateLimitIT). */
class SharedRateLimiterTest {
  private long now = 600_000; // a window boundary
  private final SharedRateLimiter limiter = new SharedRateLimiter(null, "test", "a", Duration.ofMinutes(1), 100,
      () -> now);

  private int admitted(String key, int limit, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (limiter.tryAcquire(key, limit).allowed()) {
        n++;
      }
    }
    return n;
  }

  @Test
  void admitsTheLimitInAWindowThenRefusesUntilThereIsRoom() {
    assertThat(admitted("u1", 10, 15)).isEqualTo(10);
    SharedRateLimiter.Decision refused = limiter.tryAcquire("u1", 10);
    assertThat(refused.allowed()).isFalse();
    // 10 in this window: it must end, and then fade by a tenth, before one more fits
    assertThat(refused.retryAfterSeconds()).isEqualTo(66);
    now += 65_000;
    assertThat(limiter.tryAcquire("u1", 10).allowed()).isFalse();
    now += 1_000;
    assertThat(limiter.tryAcquire("u1", 10).allowed()).isTrue();
    // another key is not affected
    assertThat(admitted("u2", 10, 10)).isEqualTo(10);
  }

  @Test
  void thePreviousWindowCountsByTheShareOfItStillInTheLastMinute() {
    assertThat(admitted("u", 10, 10)).isEqualTo(10);
    now += 90_000; // half-way through the next window: the previous 10 weigh 5
    assertThat(admitted("u", 10, 10)).isEqualTo(5);
    SharedRateLimiter.Decision refused = limiter.tryAcquire("u", 10);
    assertThat(refused.allowed()).isFalse();
    // 10 x (1 - elapsed) + 5 + 1 <= 10 once elapsed reaches 0.6 of the window: 6 s on
    assertThat(refused.retryAfterSeconds()).isEqualTo(6);
    now += 5_000;
    assertThat(limiter.tryAcquire("u", 10).allowed()).isFalse();
    now += 1_000;
    assertThat(limiter.tryAcquire("u", 10).allowed()).isTrue();
  }

  @Test
  void aRequestFitsOnceItsRetryAfterHasPassed() {
    for (int limit : new int[] {1, 3, 10, 60}) {
      String key = "k" + limit;
      now = 600_000 + 17_000;
      for (int step = 0; step < 100; step++) {
        SharedRateLimiter.Decision d = limiter.tryAcquire(key, limit);
        if (!d.allowed()) {
          assertThat(d.retryAfterSeconds()).isBetween(1L, 120L);
          now += d.retryAfterSeconds() * 1_000;
          assertThat(limiter.tryAcquire(key, limit).allowed()).as("limit %d, step %d", limit, step).isTrue();
        }
        now += 1_300;
      }
    }
  }

  @Test
  void forgetsTheLeastRecentlyUsedKeysBeyondItsBound() {
    SharedRateLimiter small = new SharedRateLimiter(null, "test", "a", Duration.ofMinutes(1), 2, () -> now);
    assertThat(small.tryAcquire("a", 1).allowed()).isTrue();
    assertThat(small.tryAcquire("a", 1).allowed()).isFalse();
    small.tryAcquire("b", 1);
    small.tryAcquire("c", 1);
    // "a" was forgotten: it starts afresh (only ever in the client's favour)
    assertThat(small.tryAcquire("a", 1).allowed()).isTrue();
  }
}
