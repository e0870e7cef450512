package ai.pingvas.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void layersDefaultsThenFileThenEnvironment(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("override.yaml");
    Files.writeString(file, "sample:\n  name: beta\n  pool-size: 8\n");
    Config config = ConfigLoader.load("/test-defaults.yaml", Map.of(
        ConfigLoader.FILE_VARIABLE, file.toString(),
        "PINGVAS_SAMPLE_POOL_SIZE", "16",
        "PINGVAS_SAMPLE_ENABLED", "true"));
    assertThat(config.string("sample.name")).isEqualTo("beta");
    assertThat(config.integer("sample.pool-size")).isEqualTo(16);
    assertThat(config.bool("sample.enabled")).isTrue();
    assertThat(config.duration("sample.timeout")).isEqualTo(Duration.ofMillis(250));
    assertThat(config.list("sample.hosts")).containsExactly("a", "b");
    assertThat(config.string("http.port")).isEqualTo("8080");
  }

  @Test
  void namesTheEnvironmentVariableOfEveryKey() {
    assertThat(ConfigLoader.envName("pg.pool-size")).isEqualTo("PINGVAS_PG_POOL_SIZE");
    assertThat(ConfigLoader.envName("queue.ttl")).isEqualTo("PINGVAS_QUEUE_TTL");
  }

  @Test
  void refusesUnknownKeysInAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("typo.yaml");
    Files.writeString(file, "sample:\n  pool-sise: 8\n");
    assertThatThrownBy(() -> ConfigLoader.load("/test-defaults.yaml", Map.of(ConfigLoader.FILE_VARIABLE,
        file.toString()))).isInstanceOf(ConfigException.class).hasMessageContaining("sample.pool-sise");
  }

  @Test
  void explainsMalformedValues() {
    Config config = ConfigLoader.load("/test-defaults.yaml", Map.of("PINGVAS_SAMPLE_TIMEOUT", "soon",
        "PINGVAS_SAMPLE_POOL_SIZE", "many"));
    assertThatThrownBy(() -> config.duration("sample.timeout")).hasMessageContaining("250ms, 30s");
    assertThatThrownBy(() -> config.integer("sample.pool-size")).hasMessageContaining("integer");
  }

  @Test
  void acceptsOnlyTheNamedChoices() {
    Config config = Config.of(Map.of("kafka.compression", " LZ4 ", "kafka.other", "brotli"));
    assertThat(config.oneOf("kafka.compression", List.of("none", "lz4"))).isEqualTo("lz4");
    assertThatThrownBy(() -> config.oneOf("kafka.other", List.of("none", "lz4")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("kafka.other must be one of [none, lz4]")
        .hasMessageContaining("brotli");
  }

  @Test
  void hidesSecretsWhenPrinted() {
    Config config = Config.of(Map.of("pg.password", "hunter2", "storage.secret-key", "s3cr3t", "http.port", 8080));
    assertThat(config.toString()).doesNotContain("hunter2").doesNotContain("s3cr3t").contains("8080");
    assertThat(config.with(Map.of("http.port", 9090)).integer("http.port")).isEqualTo(9090);
    assertThat(config.list("missing")).isEqualTo(List.of());
  }
}
