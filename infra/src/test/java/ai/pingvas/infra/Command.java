package ai.pingvas.infra;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs an external tool and keeps what it said; a tool that hangs fails the check instead of the build. */
record Command(int exit, String out, String err) {
  private static final long TIMEOUT_SECONDS = 120;

  static Command run(Path dir, List<String> args) {
    return run(dir, args, null);
  }

  /** Runs a tool with {@code stdin} (when not null) as its standard input. */
  static Command run(Path dir, List<String> args, String stdin) {
    try {
      Path out = Files.createTempFile("check-out", ".txt");
      Path err = Files.createTempFile("check-err", ".txt");
      ProcessBuilder builder = new ProcessBuilder(args).directory(dir.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      if (stdin == null) {
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      }
      Process p = builder.start();
      if (stdin != null) {
        try (var in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", args) + " did not finish in " + TIMEOUT_SECONDS + "s");
      }
      Command c = new Command(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
      Files.delete(out);
      Files.delete(err);
      return c;
    } catch (IOException e) {
      throw new AssertionError("cannot run " + args.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + args.get(0), e);
    }
  }

  /** The Node tools of infra/checks (installed by `npm ci` in the build). */
  static Command node(String subcommand, List<String> args) {
    List<String> all = new ArrayList<>(List.of("node", Repo.CHECKS.resolve("bin/checks.cjs").toString(), subcommand));
    all.addAll(args);
    return run(Repo.ROOT, all);
  }

  /** An executable on the PATH, if there is one. */
  static Optional<Path> onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** In CI a missing tool is a failure, never a skip: the check must not pass by not running. */
  static boolean inCi() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false");
  }

  String output() {
    return out + err;
  }
}
