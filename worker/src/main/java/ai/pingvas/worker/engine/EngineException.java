package ai.pingvas.worker.engine;

/**
 * A failed generation with a protocol failure code. {@code retryable=false} for deterministic
 * failures (bad parameters, unknown model) that another attempt would only repeat.
 */
public class EngineException extends RuntimeException {
  private final String code;
  private final boolean retryable;

  public EngineException(String code, String message, boolean retryable) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }

  public EngineException(String code, String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.retryable = retryable;
  }

  public String code() {
    return code;
  }

  public boolean retryable() {
    return retryable;
  }

  public static EngineException canceled() {
    return new EngineException("canceled", "canceled at the router's request", false);
  }
}
