package ai.pingvas.models;

import ai.pingvas.platform.config.Config;
import java.time.Duration;

/** model-service configuration, typed once at start. */
public record ModelSettings(String workerTopic, String workerGroup, Duration holdingTtl, boolean seedDevModels) {
  public static ModelSettings from(Config config) {
    return new ModelSettings(config.string("workers.topic"), config.string("workers.group"),
        config.duration("workers.holding-ttl"), config.bool("dev.seed-models"));
  }
}
