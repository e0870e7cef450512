package ai.pingvas.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service (router, worker, ...) in its own JVM, configured through environment variables as in
 * production, so tests can SIGKILL it, SIGSTOP it or SIGTERM it and watch the rest recover.
 */
public final class JavaProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final String name;
  private final Path log;
  private final Process process;

  private JavaProcess(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /** Test defaults: a small heap and fast start-up (C1 only), for processes that are killed soon. */
  public static final List<String> TEST_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  /** Starts {@code mainClass} on this JVM's classpath with extra environment variables. */
  public static JavaProcess start(String name, String mainClass, Map<String, String> env, Path logDir) {
    return start(name, mainClass, env, logDir, TEST_JVM);
  }

  /** Starts {@code mainClass} with the given JVM flags (a benchmark wants C2 and a chosen GC). */
  public static JavaProcess start(String name, String mainClass, Map<String, String> env, Path logDir,
      List<String> jvmFlags) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-Djava.awt.headless=true");
    command.add("-cp");
    command.add(KafkaServer.classpath());
    command.add(mainClass);
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(env);
      builder.environment().putIfAbsent("LOG_FORMAT", "text");
      return new JavaProcess(name, log, builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /** Waits until {@code url} answers 2xx (e.g. a readiness probe). */
  public JavaProcess awaitHttp(String url, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1))
            .build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 == 2) {
          return this;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      pause(100);
    }
    throw new IllegalStateException(name + " did not answer " + url + " within " + timeout + "; see " + log);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  public Path log() {
    return log;
  }

  /** SIGKILL, as a crash or an OOM kill would. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(10));
  }

  /** SIGTERM, as Kubernetes sends before removing a pod. */
  public void terminate() {
    process.destroy();
  }

  /** SIGSTOP / SIGCONT: the process freezes (no heartbeats, sockets open) and later resumes. */
  public void freeze() {
    signal("STOP");
  }

  public void thaw() {
    signal("CONT");
  }

  /** Waits for the process to exit; returns its exit code, or -1 if still running. */
  public int waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private void signal(String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      thaw();
      process.destroy();
      if (waitFor(Duration.ofSeconds(10)) == -1) {
        kill();
      }
    }
  }
}
