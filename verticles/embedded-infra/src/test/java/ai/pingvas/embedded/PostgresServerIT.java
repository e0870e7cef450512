package ai.pingvas.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code durable} means on the server itself: zonky starts every postmaster with {@code -F}
 * (fsync off), so a durable server must turn fsync back on, or the dev stack and the benchmark
 * would commit without ever reaching the disk.
 */
class PostgresServerIT {
  private static final List<String> SETTINGS = List.of("fsync", "full_page_writes", "synchronous_commit");

  @Test
  void durableServerSyncsCommitsToDisk(@TempDir Path dir) {
    try (PostgresServer server = PostgresServer.start(dir.resolve("pg"), 0, true)) {
      assertThat(server.settings(SETTINGS))
          .isEqualTo(Map.of("fsync", "on", "full_page_writes", "on", "synchronous_commit", "on"));
    }
  }

  @Test
  void throwAwayServerSkipsFsync(@TempDir Path dir) {
    try (PostgresServer server = PostgresServer.start(dir.resolve("pg"), 0, false)) {
      assertThat(server.settings(SETTINGS)).containsEntry("fsync", "off").containsEntry("full_page_writes", "off");
    }
  }

  @Test
  void durableSettingSurvivesARestartAfterAKill(@TempDir Path dir) {
    try (PostgresServer server = PostgresServer.start(dir.resolve("pg"), 0, true)) {
      server.kill();
      server.restart();
      assertThat(server.settings(List.of("fsync"))).containsEntry("fsync", "on");
    }
  }
}
