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
    assertThatThrownBy(() -> PostgresServer.extraSettings("shared_buffers"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'shared_buffers'");
    assertThatThrownBy(() -> PostgresServer.extraSettings("work_mem=8MB,=1"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'=1'");
    assertThatThrownBy(() -> PostgresServer.extraSettings("work_mem="))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'work_mem='");
  }

  @Test
  void refusesWhatTheDurableModeDecides() {
    assertThatThrownBy(() -> PostgresServer.extraSettings("fsync=off"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fsync follows the durable mode");
    assertThatThrownBy(() -> PostgresServer.extraSettings("full_page_writes=off"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("full_page_writes");
  }
}
