package ai.pingvas.users.domain;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** One ES256 key of the ring: its public JWK, its PKCS#8 private key (decrypted), and when it signs from. */
public record SigningKey(String kid, JsonObject publicJwk, byte[] privatePkcs8, Instant signsFrom) {
}
