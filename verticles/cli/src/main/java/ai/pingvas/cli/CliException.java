package ai.pingvas.cli;

import com.google.gson.JsonObject;

/** A failure to report and exit with: a readable message, the exit code and, from the API, its problem document. */
public final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;
  private final transient JsonObject problem;

  public CliException(int exitCode, String message) {
    this(exitCode, message, null, null);
  }

  public CliException(int exitCode, String message, JsonObject problem, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
    this.problem = problem;
  }

  public int exitCode() {
    return exitCode;
  }

  /** The API's problem+json document, or null when the failure did not come from the API. */
  public JsonObject problem() {
    return problem;
  }
}
