package ai.pingvas.gallery;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import java.time.Duration;

/**
 * gallery-service configuration, typed once at start. Storage quotas are not here: they are part of
 * the tier table user-service publishes, the one source the router's limits also come from.
 * {@code tombstoneTtl}: how long a deleted image's id is remembered against replayed events;
 * {@code recheckAfter}: when a finished job's uploads are looked at again (late uploads).
 */
public record GallerySettings(int thumbnailSize, double thumbnailQuality, Duration tombstoneTtl,
    Duration tombstoneSweepEvery, Duration recheckAfter, Duration recheckSweepEvery) {

  public static GallerySettings from(Config config) {
    Duration ttl = config.duration("images.tombstone-ttl");
    if (ttl.compareTo(Duration.ofDays(1)) < 0) {
      // a replay (a consumer group reset, a restore) re-reads the topic's whole retention
      throw new ConfigException("images.tombstone-ttl must be at least 1d (longer than the events topic's "
          + "retention), got " + ttl);
    }
    return new GallerySettings(config.integer("thumbnails.size"), config.decimal("thumbnails.quality"), ttl,
        positive(config, "images.tombstone-sweep-every"), positive(config, "cleanup.recheck-after"),
        positive(config, "cleanup.sweep-every"));
  }

  private static Duration positive(Config config, String key) {
    Duration d = config.duration(key);
    if (d.isZero() || d.isNegative()) {
      throw new ConfigException(key + " must be positive, got " + d);
    }
    return d;
  }
}
