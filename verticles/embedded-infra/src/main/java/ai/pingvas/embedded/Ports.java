package ai.pingvas.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Local TCP port helpers for the embedded servers. */
public final class Ports {
  private Ports() {
  }

  /** A port that is free right now (the OS picks it). */
  public static int free() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
