package ai.pingvas.generation;

import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.testing.Http;
import java.net.URI;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test's own end of the worker protocol, used to play a worker that misbehaves on purpose
 * (goes silent, reports late) against the real router.
 */
final class ProtocolProbe implements WebSocket.Listener, AutoCloseable {
  private final LinkedBlockingQueue<RouterMessage> received = new LinkedBlockingQueue<>();
  private final StringBuilder partial = new StringBuilder();
  private WebSocket socket;

  static ProtocolProbe connect(String routerUrl, String token) {
    ProtocolProbe probe = new ProtocolProbe();
    probe.socket = Http.client().newWebSocketBuilder().header("Authorization", "Bearer " + token)
        .buildAsync(URI.create(routerUrl.replace("http:", "ws:") + "/v1/workers/connect"), probe)
        .orTimeout(10, TimeUnit.SECONDS).join();
    return probe;
  }

  void send(WorkerMessage message) {
    socket.sendText(message.toJson().encode(), true).orTimeout(5, TimeUnit.SECONDS).join();
  }

  @SuppressWarnings("unchecked")
  <T extends RouterMessage> T await(Class<T> type, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        RouterMessage message = received.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
        if (message == null) {
          throw new AssertionError("no " + type.getSimpleName() + " within " + timeout);
        }
        if (type.isInstance(message)) {
          return (T) message;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      received.add(RouterMessage.parse(partial.toString()));
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public void close() {
    socket.abort();
  }
}
