package ai.pingvas.users.domain;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Set;

/** An account. {@code passwordHash} never leaves the service. */
public record User(String id, String email, String name, String passwordHash, String tier, Set<String> roles,
    Instant createdAt) {
  public static final Set<String> TIERS = Set.of("free", "pro", "studio");

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("email", email).put("name", name).put("tier", tier)
        .put("roles", new JsonArray(roles.stream().sorted().toList())).put("created_at", createdAt.toString());
  }
}
