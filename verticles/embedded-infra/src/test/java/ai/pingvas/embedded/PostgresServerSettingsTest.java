package ai.pingvas.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import org.junit.jupiter.api.Test;

/** {@code PINGVAS_EMBEDDED_PG_SETTINGS}: what it accepts, in order, and what it refuses. */
class PostgresServerSettingsTest {
  @Test
  void parsesNameValuePairsInOrder() {
    assertThat(PostgresServer.extraSettings(" shared_buffers = 1GB,work_mem=8MB,search_path=a=b "))
        .containsExactly(
            entry("shared_buffers", "1GB"),
            entry("work_mem", "8MB"),
            entry("search_path", "a=b"));
  }

  @Test
  void unsetOrBlankMeansNone() {
    assertThat(PostgresServer.extraSettings(null)).isEmpty();
    assertThat(PostgresServer.extraSettings("  ")).isEmpty();
  }

  @Test
  void refusesMalformedPairs() {
    assertRefused("shared_buffers", "'shared_buffers'");
    assertRefused("work_mem=8MB,=1", "'=1'");
    assertRefused("work_mem=", "'work_mem='");
  }

  @Test
  void refusesWhatTheDurableModeDecides() {
    assertRefused("fsync=off", "fsync follows the durable mode");
    assertRefused("full_page_writes=off", "full_page_writes");
  }

  private static void assertRefused(String spec, String message) {
    assertThatThrownBy(() -> PostgresServer.extraSettings(spec))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }
}
