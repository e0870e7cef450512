package ai.pingvas.generation;

import ai.pingvas.embedded.LocalInfra;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.UUID;

/** Test users with API keys, created where the router looks them up. */
final class TestUsers {
  private TestUsers() {
  }

  /** Creates a user of the tier with one API key in the router's database; returns the key. */
  static String create(LocalInfra infra, String dbUrl, String tier) {
    return create(infra, dbUrl, tier, false);
  }

  /** Same, optionally with the admin role. */
  static String create(LocalInfra infra, String dbUrl, String tier, boolean admin) {
    String userId = UUID.randomUUID().toString();
    String key = "pv_test_" + UUID.randomUUID().toString().replace("-", "");
    String db = dbUrl.substring(dbUrl.lastIndexOf('/') + 1);
    try (Connection c = DriverManager.getConnection(infra.postgres().jdbcUrl(db), "postgres", "")) {
      try (PreparedStatement s = c.prepareStatement(
          "INSERT INTO generation.users (id, name, tier, roles) VALUES (?::uuid, ?, ?, ?::text[])")) {
        s.setString(1, userId);
        s.setString(2, "user-" + userId.substring(0, 8));
        s.setString(3, tier);
        s.setString(4, admin ? "{admin}" : "{}");
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("INSERT INTO generation.api_keys (id, user_id, key_hash, prefix) "
          + "VALUES (?::uuid, ?::uuid, ?, ?)")) {
        s.setString(1, UUID.randomUUID().toString());
        s.setString(2, userId);
        s.setBytes(3, MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        s.setString(4, key.substring(0, 10));
        s.executeUpdate();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return key;
  }
}
