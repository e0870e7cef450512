package ai.pingvas.platform.tiers;

import io.vertx.core.json.JsonObject;

/** What one tier allows a user: submissions per minute, concurrent jobs, image size and storage. */
public record TierLimits(String tier, int requestsPerMinute, int maxRunning, int maxQueued, int maxResolution,
    long storageQuotaBytes) {

  public JsonObject toJson() {
    return new JsonObject().put("tier", tier).put("requests_per_minute", requestsPerMinute)
        .put("max_running", maxRunning).put("max_queued", maxQueued).put("max_resolution", maxResolution)
        .put("storage_quota_bytes", storageQuotaBytes);
  }

  public static TierLimits fromJson(JsonObject json) {
    return new TierLimits(json.getString("tier"), json.getInteger("requests_per_minute"),
        json.getInteger("max_running"), json.getInteger("max_queued"), json.getInteger("max_resolution"),
        json.getLong("storage_quota_bytes"));
  }
}
