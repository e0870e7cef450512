package ai.pingvas.platform.config;

/** A configuration value that is missing, unknown or malformed; services refuse to start with one. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
