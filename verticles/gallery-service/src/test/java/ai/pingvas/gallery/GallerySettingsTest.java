package ai.pingvas.gallery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.ConfigException;
import ai.pingvas.platform.config.ConfigLoader;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GallerySettingsTest {
  @Test
  void deletedImagesAreRememberedForThirtyDaysByDefault() {
    GallerySettings settings = GallerySettings.from(ConfigLoader.load("/gallery-defaults.yaml", Map.of()));
    assertThat(settings.tombstoneTtl()).isEqualTo(Duration.ofDays(30));
    assertThat(settings.tombstoneSweepEvery()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void aTombstoneTtlShorterThanADayIsRefused() {
    // a replayed job.succeeded could then bring a deleted image back
    assertThatThrownBy(() -> GallerySettings.from(ConfigLoader.load("/gallery-defaults.yaml",
        Map.of("PINGVAS_IMAGES_TOMBSTONE_TTL", "12h")))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("images.tombstone-ttl");
  }
}
