package ai.pingvas.gallery;

import ai.pingvas.platform.config.Config;
import java.util.LinkedHashMap;
import java.util.Map;

/** gallery-service configuration, typed once at start. */
public record GallerySettings(Map<String, Long> quotaBytesByTier, long defaultQuotaBytes, int thumbnailSize,
    double thumbnailQuality) {
  private static final long MB = 1024L * 1024;

  public static GallerySettings from(Config config) {
    Map<String, Long> quotas = new LinkedHashMap<>();
    config.subtree("quota.tiers.").forEach((tier, value) ->
        quotas.put(tier, config.longValue("quota.tiers." + tier) * MB));
    return new GallerySettings(Map.copyOf(quotas), config.longValue("quota.default-mb") * MB,
        config.integer("thumbnails.size"), config.decimal("thumbnails.quality"));
  }

  /** The storage quota of a tier (the default for a tier this configuration does not name). */
  public long quotaBytes(String tier) {
    return quotaBytesByTier.getOrDefault(tier, defaultQuotaBytes);
  }
}
