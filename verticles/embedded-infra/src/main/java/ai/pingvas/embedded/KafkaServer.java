package ai.pingvas.embedded;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka broker in a child JVM (same classpath as this one). Being a real
 * process, tests can SIGKILL it and start it again on the same data and port.
 */
public final class KafkaServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaServer.class);

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private Process process;

  private KafkaServer(Path dir, int port, int controllerPort) {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Starts a broker on {@code port} (0 = any free port) and waits until it serves metadata. */
  public static KafkaServer start(Path dir, int port) {
    int brokerPort = port > 0 ? port : Ports.free();
    KafkaServer server = new KafkaServer(dir, brokerPort, Ports.free());
    server.launch();
    return server;
  }

  private void launch() {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xms128m");
    command.add("-Xmx768m");
    command.add("-XX:+UseSerialGC");
    command.add("-Dlogback.configurationFile=" + logbackConfig());
    command.add("-cp");
    command.add(classpath());
    command.add(KafkaServerMain.class.getName());
    command.add(dir.toString());
    command.add(Integer.toString(port));
    command.add(Integer.toString(controllerPort));
    File log = dir.resolve("kafka.log").toFile();
    try {
      process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
          .redirectInput(ProcessBuilder.Redirect.PIPE)
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded Kafka process", e);
    }
    awaitReady(Duration.ofSeconds(90));
    LOG.info("embedded Kafka ready on 127.0.0.1:{} (pid {})", port, process.pid());
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("embedded Kafka exited with " + process.exitValue()
            + "; see " + dir.resolve("kafka.log"));
      }
      if (Ports.accepting(port) && serving()) {
        return;
      }
      sleep(100);
    }
    throw new IllegalStateException("embedded Kafka not ready within " + timeout + "; see " + dir.resolve("kafka.log"));
  }

  private boolean serving() {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000))) {
      return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process == null ? -1 : process.pid();
  }

  /** SIGKILL: the broker disappears without a clean shutdown. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      waitFor(process, 30);
      process = null;
    }
  }

  /** Starts the broker again on the same data and ports. */
  public void restart() {
    if (process != null) {
      stop();
    }
    launch();
  }

  public void stop() {
    if (process != null) {
      process.destroy();
      if (!waitFor(process, 30)) {
        process.destroyForcibly();
        waitFor(process, 10);
      }
      process = null;
    }
  }

  @Override
  public void close() {
    stop();
  }

  private static boolean waitFor(Process process, int seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The classpath of this JVM, expanded if a launcher hid it in a manifest-only jar. */
  static String classpath() {
    String cp = ManagementFactory.getRuntimeMXBean().getClassPath();
    return cp == null || cp.isEmpty() ? System.getProperty("java.class.path") : cp;
  }

  private static String logbackConfig() {
    var url = KafkaServer.class.getResource("/embedded-logback.xml");
    return url == null ? "" : url.toString();
  }
}
