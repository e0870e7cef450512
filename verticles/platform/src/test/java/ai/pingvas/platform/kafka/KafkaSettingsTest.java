package ai.pingvas.platform.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {
  @Test
  void producersAreIdempotentAndLingerFiveMillisecondsUnlessConfigured() {
    Map<String, String> producer = KafkaSettings.fromConfig(
        ConfigLoader.load("/test-defaults.yaml", Map.of("PINGVAS_KAFKA_BOOTSTRAP", "k:9092")), "svc").producer();
    assertThat(producer).containsEntry("bootstrap.servers", "k:9092").containsEntry("acks", "all")
        .containsEntry("enable.idempotence", "true").containsEntry("linger.ms", "5")
        .containsEntry("compression.type", "none");

    Map<String, String> tuned = KafkaSettings.fromConfig(ConfigLoader.load("/test-defaults.yaml",
        Map.of("PINGVAS_KAFKA_LINGER", "20ms", "PINGVAS_KAFKA_COMPRESSION", "lz4")), "svc").producer();
    assertThat(tuned).containsEntry("linger.ms", "20").containsEntry("compression.type", "lz4");
  }
}
