package ai.pingvas.generation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between a worker and the router, so a test can cut the connection (as a network
 * failure would) or freeze it half-open without killing either process, and refuse reconnects for
 * a while.
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  /** The relay's sockets to the target, whose reads are what the target answers. */
  private final List<Socket> upstreams = new CopyOnWriteArrayList<>();
  private final java.util.Set<Socket> frozen = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean blocked;
  /** While armed: the first connection whose client sends these bytes gets no answer from then on. */
  private volatile byte[] trigger;
  private final java.util.concurrent.atomic.AtomicBoolean tripped = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closed;

  public TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread acceptor = new Thread(this::accept, "tcp-proxy-" + targetPort);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Cuts every open connection (both directions) at once. */
  void dropAll() {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException e) {
        // already gone
      }
    }
    sockets.clear();
    upstreams.clear();
  }

  /**
   * Open connections stay open but carry nothing more in either direction (a half-open link, as a
   * dead NAT entry or a peer that vanished without a FIN leaves it): neither end is told.
   */
  public void freezeAll() {
    frozen.addAll(sockets);
  }

  /**
   * Open connections still carry what the client sends, but nothing the target answers: requests
   * take effect and their answers are lost (a link that fails one way, or fails right after the
   * requests went through). Neither end is told.
   */
  public void freezeReplies() {
    frozen.addAll(upstreams);
  }

  /**
   * The first connection whose client sends {@code marker} (say, a statement's text, sent when the
   * client prepares it on that connection) carries it to the target, then no answer from it: that
   * request takes effect unseen. Once.
   */
  public void freezeRepliesAfter(String marker) {
    tripped.set(false);
    trigger = marker.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Whether {@link #freezeRepliesAfter} found its marker. */
  public boolean tripped() {
    return tripped.get();
  }

  /** While blocked, new connections are accepted and closed immediately. */
  void block(boolean block) {
    this.blocked = block;
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        if (blocked) {
          client.close();
          continue;
        }
        Socket upstream = new Socket("127.0.0.1", targetPort);
        sockets.add(client);
        sockets.add(upstream);
        upstreams.add(upstream);
        pipe(client, upstream, upstream);
        pipe(upstream, client, upstream);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  /** Copies {@code from} to {@code to}; {@code upstream} is the connection's socket to the target. */
  private void pipe(Socket from, Socket to, Socket upstream) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      String seen = ""; // the end of what the client sent, so a marker split across reads is found
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          if (frozen.contains(from)) {
            continue; // swallowed
          }
          out.write(buffer, 0, n);
          out.flush();
          byte[] marker = trigger;
          if (marker != null && from != upstream) {
            String text = seen + new String(buffer, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (text.contains(new String(marker, java.nio.charset.StandardCharsets.ISO_8859_1))
                && tripped.compareAndSet(false, true)) {
              trigger = null;
              frozen.add(upstream);
            }
            seen = text.substring(Math.max(0, text.length() - marker.length));
          }
        }
      } catch (IOException e) {
        // connection cut
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException e) {
          // ignore
        }
      }
    }, "tcp-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    dropAll();
  }
}
