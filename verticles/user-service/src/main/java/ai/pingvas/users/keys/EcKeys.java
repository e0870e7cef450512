package ai.pingvas.users.keys;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;

/** P-256 key pairs for ES256: generation, the public JWK (RFC 7518 §6.2) and the PKCS#8 PEM Vert.x signs with. */
public final class EcKeys {
  private EcKeys() {
  }

  public static KeyPair generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static JsonObject publicJwk(ECPublicKey key, String kid) {
    return new JsonObject().put("kty", "EC").put("crv", "P-256").put("use", "sig").put("alg", "ES256")
        .put("kid", kid).put("x", coordinate(key.getW().getAffineX()))
        .put("y", coordinate(key.getW().getAffineY()));
  }

  public static String privatePem(byte[] pkcs8) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8)
        + "\n-----END PRIVATE KEY-----\n";
  }

  /** A coordinate as exactly 32 unsigned big-endian bytes, base64url. */
  private static String coordinate(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] fixed = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, fixed, 32 - copy, copy);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(fixed, 32));
  }
}
