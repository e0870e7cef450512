package ai.pingvas.platform.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/** Who made a request: the user, their tier and roles, and how they proved it. */
public record Principal(String userId, String tier, Set<String> roles, String method) {
  public static final String ADMIN = "admin";

  public boolean isAdmin() {
    return roles.contains(ADMIN);
  }

  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("tier", tier)
        .put("roles", new JsonArray(roles.stream().sorted().toList())).put("method", method);
  }

  public static Principal fromJson(JsonObject json) {
    JsonArray roles = json.getJsonArray("roles", new JsonArray());
    return new Principal(json.getString("user_id"), json.getString("tier", "free"),
        Set.copyOf(roles.stream().map(String::valueOf).toList()), json.getString("method", "api_key"));
  }
}
