package ai.pingvas.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job's credits stay held as long as the job can live, retries included. */
class PaymentSettingsTest {
  private static Duration holdTtl(int attempts) {
    return PaymentSettings.holdTtl(Config.of(Map.of("queue.ttl", "15m", "execution.timeout", "10m",
        "retry.max-attempts", attempts, "retry.backoff-max", "60s")));
  }

  @Test
  void aHoldOutlivesEveryAttemptOfItsJob() {
    // each re-queue restarts the queue TTL: three attempts of 25 min, and two backoffs between them
    assertThat(holdTtl(3)).isEqualTo(Duration.ofMinutes(77));
    assertThat(holdTtl(1)).isEqualTo(Duration.ofMinutes(25));
    assertThatThrownBy(() -> holdTtl(0)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("retry.max-attempts must be at least 1, got 0");
  }
}
