package ai.pingvas.users.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Random bearer secrets (API keys, refresh tokens) and the SHA-256 digests they are stored as. */
public final class Secrets {
  public static final String API_KEY_PREFIX = "pv_";
  public static final String REFRESH_PREFIX = "pvr_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Secrets() {
  }

  /** {@code prefix} + 256 random bits, base64url. High entropy is why a fast hash is enough to store it. */
  public static String generate(String prefix) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  public static byte[] sha256(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What a list shows of a key: enough to recognise it, not to use it. */
  public static String displayPrefix(String key) {
    return key.substring(0, Math.min(10, key.length()));
  }
}
