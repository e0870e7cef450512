package ai.pingvas.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Local TCP port helpers for the embedded servers. */
public final class Ports {
  private Ports() {
  }

  /** Ports handed out by this JVM: never handed out twice, even before their server binds. */
  private static final Set<Integer> ISSUED = ConcurrentHashMap.newKeySet();
  /** Below Linux's default ephemeral range (32768-60999): outgoing connections never take these. */
  private static final int LOW = 20_000;
  private static final int HIGH = 32_000;

  /**
   * A port that is free right now, for a server this process starts shortly. Taken below the
   * ephemeral range and not handed out before: a port the OS picks from that range can be taken by
   * any outgoing connection (to Postgres, Kafka, S3) between this check and the server's bind,
   * which failed test runs with "Address already in use".
   */
  public static int free() {
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
      if (!ISSUED.contains(port) && isFreeOnAll(port) && ISSUED.add(port)) {
        return port;
      }
    }
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      ISSUED.add(socket.getLocalPort());
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Free on every address (a server listening on the wildcard address conflicts with any). */
  private static boolean isFreeOnAll(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code preferred} if it is free, else any free port. */
  public static int freeOr(int preferred) {
    if (preferred > 0 && isFree(preferred)) {
      return preferred;
    }
    return free();
  }

  public static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** True once something accepts connections on the port. */
  public static boolean accepting(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Waits until the port accepts connections or the timeout passes. */
  public static void awaitAccepting(int port, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!accepting(port)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + " did not open port " + port + " within " + timeout);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for " + what, e);
      }
    }
  }
}
