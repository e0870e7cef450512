package ai.pingvas.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Entry point of the embedded Kafka child process: a single-node KRaft broker+controller whose log
 * directory persists. It exits when its parent's stdin pipe closes, so it never outlives the JVM
 * that started it. Arguments: {@code <dir> <port> <controllerPort>}.
 */
public final class KafkaServerMain {
  private static final String CLUSTER_ID = "cGluZ3Zhcy1zdHVkaW8tMQ";

  private KafkaServerMain() {
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int port = Integer.parseInt(args[1]);
    int controllerPort = Integer.parseInt(args[2]);
    Files.createDirectories(dir);
    Path props = writeProperties(dir, port, controllerPort);
    if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
      int rc = kafka.tools.StorageTool.execute(
          new String[] {"format", "-t", CLUSTER_ID, "-c", props.toString(), "--standalone"}, System.out);
      if (rc != 0) {
        System.err.println("kafka storage format failed with " + rc);
        System.exit(rc);
      }
    }
    Thread watchdog = new Thread(KafkaServerMain::exitWhenParentGone, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    kafka.Kafka.main(new String[] {props.toString()});
  }

  private static Path writeProperties(Path dir, int port, int controllerPort) throws IOException {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
    p.put("log.dirs", dir.resolve("data").toString());
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "4");
    p.put("auto.create.topics.enable", "true");
    p.put("log.retention.hours", "24");
    p.put("log.segment.bytes", "67108864");
    p.put("log.flush.interval.messages", "9223372036854775807");
    Path file = dir.resolve("server.properties");
    try (Writer out = Files.newBufferedWriter(file)) {
      p.store(out, "embedded Kafka of Pingvas Studio (generated)");
    }
    return file;
  }

  /** The parent holds our stdin; EOF means it is gone, so go too. */
  private static void exitWhenParentGone() {
    try {
      InputStream in = System.in;
      byte[] buffer = new byte[64];
      while (in.read(buffer) >= 0) {
        // nothing is ever sent; reading only detects the pipe closing
      }
    } catch (IOException e) {
      // same as EOF
    }
    Runtime.getRuntime().halt(0);
  }
}
