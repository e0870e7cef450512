package ai.pingvas.cli;

/** The exit codes scripts can rely on (also listed in {@code pingvas --help}, keep both in step, and the README). */
public final class Exit {
  public static final int OK = 0;
  /** The job ran but did not succeed (failed or canceled). */
  public static final int JOB_FAILED = 1;
  /** Bad arguments, or a request the API refused as invalid (400, 422 validation). */
  public static final int USAGE = 2;
  /** Not logged in, a rejected credential (401) or a missing role (403). */
  public static final int AUTH = 3;
  /** No such job, image or worker (404). */
  public static final int NOT_FOUND = 4;
  /** The server failed (5xx) or could not be reached. */
  public static final int SERVER = 5;
  /** The server refused the request as it stands: conflict, no credits, rate or quota limits (402, 409, 429, other 422). */
  public static final int REFUSED = 6;

  private Exit() {
  }

  /** The exit code of an HTTP error status (with its problem code, which splits 422). */
  public static int forStatus(int status, String problemCode) {
    return switch (status) {
      case 400 -> USAGE;
      case 401, 403 -> AUTH;
      case 404, 410 -> NOT_FOUND;
      case 402, 409, 429 -> REFUSED;
      case 422 -> "validation_failed".equals(problemCode) ? USAGE : REFUSED;
      default -> status >= 500 || status == 0 ? SERVER : REFUSED;
    };
  }
}
