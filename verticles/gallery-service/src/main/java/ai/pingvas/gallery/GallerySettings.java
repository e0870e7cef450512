package ai.pingvas.gallery;

import ai.pingvas.platform.config.Config;

/**
 * gallery-service configuration, typed once at start. Storage quotas are not here: they are part of
 * the tier table user-service publishes, the one source the router's limits also come from.
 */
public record GallerySettings(int thumbnailSize, double thumbnailQuality) {

  public static GallerySettings from(Config config) {
    return new GallerySettings(config.integer("thumbnails.size"), config.decimal("thumbnails.quality"));
  }
}
