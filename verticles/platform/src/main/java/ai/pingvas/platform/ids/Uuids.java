package ai.pingvas.platform.ids;

import java.util.UUID;

/** Ids as the services store and compare them: UUIDs in their 36-character form, lower case. */
public final class Uuids {
  private Uuids() {
  }

  /** Whether {@code text} is a UUID in its 36-character form (either case); false for null. */
  public static boolean isUuid(String text) {
    try {
      return text != null && text.length() == 36 && UUID.fromString(text) != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The id of an image stored under {@code objectKey}: a name-based UUID of the key, so the router
   * (which hands it out) and the gallery (which serves it) agree on it without asking each other.
   */
  public static String imageId(String objectKey) {
    return UUID.nameUUIDFromBytes(objectKey.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
  }

  /** The canonical (lower-case) text of a UUID given in either case. */
  public static String canonical(String uuid) {
    return UUID.fromString(uuid).toString();
  }
}
