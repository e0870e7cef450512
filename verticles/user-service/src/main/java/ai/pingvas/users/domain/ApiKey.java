package ai.pingvas.users.domain;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** An API key as listed: never the key itself, which exists in clear only in the create response. */
public record ApiKey(String id, String userId, String name, String prefix, Instant createdAt, Instant lastUsedAt,
    Instant revokedAt) {

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("name", name).put("prefix", prefix)
        .put("created_at", createdAt.toString())
        .put("last_used_at", lastUsedAt == null ? null : lastUsedAt.toString())
        .put("revoked_at", revokedAt == null ? null : revokedAt.toString());
  }
}
