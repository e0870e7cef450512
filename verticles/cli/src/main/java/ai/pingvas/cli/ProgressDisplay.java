package ai.pingvas.cli;

import java.io.PrintWriter;

/**
 * A job's progress on stderr: a bar redrawn in place on a terminal, otherwise one line per change
 * of state (and every quarter of the steps), so logs stay readable.
 */
final class ProgressDisplay {
  private static final int WIDTH = 30;
  private final PrintWriter err;
  private final boolean interactive;
  private final boolean quiet;
  private String lastStatus = "";
  private int lastQuarter = -1;
  private int drawn;

  ProgressDisplay(PrintWriter err, boolean interactive, boolean quiet) {
    this.err = err;
    this.interactive = interactive;
    this.quiet = quiet;
  }

  /** Where the job stands now. */
  void show(JobState job) {
    if (quiet) {
      return;
    }
    String line = line(job);
    if (interactive) {
      String padded = drawn > line.length() ? line + " ".repeat(drawn - line.length()) : line;
      err.print("\r" + padded);
      drawn = line.length();
      err.flush();
      return;
    }
    int quarter = job.total > 0 ? (int) Math.floor(job.percent / 25) : -1;
    if (!job.status.equals(lastStatus) || (job.status.equals("running") && quarter != lastQuarter)) {
      err.println(line);
      err.flush();
    }
    lastStatus = job.status;
    lastQuarter = quarter;
  }

  /** A message between updates (reconnecting...). */
  void note(String message) {
    if (quiet) {
      return;
    }
    if (interactive && drawn > 0) {
      err.print("\r" + " ".repeat(drawn) + "\r");
      drawn = 0;
    }
    err.println(message);
    err.flush();
  }

  /** Ends the bar's line. */
  void done() {
    if (!quiet && interactive && drawn > 0) {
      err.println();
      err.flush();
      drawn = 0;
    }
  }

  static String line(JobState job) {
    String id = job.id.length() > 8 ? job.id.substring(0, 8) : job.id;
    StringBuilder line = new StringBuilder(id).append("  ").append(String.format("%-10s", job.status));
    switch (job.status) {
      case "queued" -> {
        if (job.queuePosition != null) {
          line.append(job.queuePosition == 0 ? "next in line" : "position " + (job.queuePosition + 1));
        }
        if (job.etaSeconds != null) {
          line.append(String.format(" · about %.0f s", Math.max(1, job.etaSeconds)));
        }
      }
      case "running", "succeeded" -> {
        double percent = job.status.equals("succeeded") ? 100 : job.percent;
        int filled = (int) Math.round(WIDTH * percent / 100);
        line.append('[').append("#".repeat(filled)).append("-".repeat(WIDTH - filled)).append("] ")
            .append(String.format("%3.0f%%", percent));
        if (job.total > 0) {
          line.append(String.format("  step %d/%d", job.status.equals("succeeded") ? job.total : job.step, job.total));
        }
      }
      case "failed" -> line.append(job.errorCode == null ? "" : job.errorCode + ": " + job.errorMessage);
      default -> {
      }
    }
    return line.toString();
  }
}
