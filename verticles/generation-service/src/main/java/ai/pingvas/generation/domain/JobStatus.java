package ai.pingvas.generation.domain;

import java.util.Locale;

/** Where a job is in its life. Terminal states never change again. */
public enum JobStatus {
  QUEUED, DISPATCHED, RUNNING, SUCCEEDED, FAILED, CANCELED;

  public boolean terminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELED;
  }

  /** Holding a worker slot. */
  public boolean active() {
    return this == DISPATCHED || this == RUNNING;
  }

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static JobStatus fromWire(String text) {
    return valueOf(text.toUpperCase(Locale.ROOT));
  }
}
