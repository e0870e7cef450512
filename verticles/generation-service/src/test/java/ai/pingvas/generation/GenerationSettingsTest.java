package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.generation.store.Backoff;
import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.config.ConfigLoader;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The router's settings as environment variables set them, checked at start. */
class GenerationSettingsTest {
  private static GenerationSettings settings(Map<String, String> env) {
    return GenerationSettings.from(ConfigLoader.load("/generation-defaults.yaml", env));
  }

  @Test
  void resultUpdatesInFlight() {
    Map<String, String> token = Map.of("PINGVAS_WORKERS_TOKEN", "t");
    assertThat(settings(token).dispatch().resultsInFlight()).as("default").isEqualTo(1);
    assertThat(settings(Map.of("PINGVAS_WORKERS_TOKEN", "t", "PINGVAS_QUEUE_RESULTS_IN_FLIGHT", "3")).dispatch()
        .resultsInFlight()).isEqualTo(3);
    assertThatThrownBy(() -> settings(Map.of("PINGVAS_WORKERS_TOKEN", "t", "PINGVAS_QUEUE_RESULTS_IN_FLIGHT", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("queue.results-in-flight must be at least 1, got 0");
  }

  @Test
  void retryBackoffHasABaseAndACap() {
    GenerationSettings defaults = settings(Map.of("PINGVAS_WORKERS_TOKEN", "t"));
    assertThat(defaults.dispatch().backoff()).isEqualTo(new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(60)));
    assertThat(defaults.janitor().backoff()).isEqualTo(defaults.dispatch().backoff());
    // the cap is its own setting, not a multiple of the base
    assertThat(settings(Map.of("PINGVAS_WORKERS_TOKEN", "t", "PINGVAS_RETRY_BACKOFF_BASE", "1s",
        "PINGVAS_RETRY_BACKOFF_MAX", "5s")).dispatch().backoff().max()).isEqualTo(Duration.ofSeconds(5));
    assertThatThrownBy(() -> settings(Map.of("PINGVAS_WORKERS_TOKEN", "t", "PINGVAS_RETRY_BACKOFF_BASE", "10s",
        "PINGVAS_RETRY_BACKOFF_MAX", "5s")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("retry.backoff-max (PT5S) must be at least retry.backoff-base (PT10S)");
  }
}
