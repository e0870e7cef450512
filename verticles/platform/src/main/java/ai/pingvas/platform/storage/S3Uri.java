package ai.pingvas.platform.storage;

/**
 * An object named as {@code s3://bucket/key}, the form the model registry keeps weights' sources in;
 * one parser for the registry (which checks the object exists) and the workers (which fetch it).
 */
public record S3Uri(String bucket, String key) {
  private static final String SCHEME = "s3://";

  /** Whether {@code source} is in this form at all (other sources pass through unchanged). */
  public static boolean is(String source) {
    return source != null && source.startsWith(SCHEME);
  }

  /** The bucket and key; {@link IllegalArgumentException} naming the source if it names no object. */
  public static S3Uri parse(String source) {
    if (!is(source)) {
      throw new IllegalArgumentException("'" + source + "' is not an s3://bucket/key source");
    }
    int slash = source.indexOf('/', SCHEME.length());
    if (slash < 0 || slash == source.length() - 1) {
      throw new IllegalArgumentException("'" + source + "' names no object (s3://bucket/key)");
    }
    return new S3Uri(source.substring(SCHEME.length(), slash), source.substring(slash + 1));
  }
}
