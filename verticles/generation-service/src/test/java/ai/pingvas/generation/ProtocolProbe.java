package ai.pingvas.generation;

import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.RouterMessage;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.protocol.WorkerMessage;
import ai.pingvas.testing.Http;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

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

  /** Puts a real 64×64 PNG where the router said, as a worker does, and describes it. */
  static List<ImageOutput> upload(RouterMessage.Assign assign) {
    try {
      UploadSlot slot = assign.upload().get(0);
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", png);
      byte[] bytes = png.toByteArray();
      HttpResponse<String> put = Http.client().send(HttpRequest.newBuilder(URI.create(slot.putUrl()))
          .header("Content-Type", "image/png").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (put.statusCode() != 200) {
        throw new AssertionError("upload refused: " + put.statusCode() + " " + put.body());
      }
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      return List.of(new ImageOutput(slot.index(), slot.key(), 64, 64, assign.job().seed(), bytes.length, sha));
    } catch (Exception e) {
      throw new AssertionError("could not upload like a worker", e);
    }
  }

  /** Asserts that nothing arrives from the router within {@code quiet}. */
  void expectSilence(Duration quiet) {
    try {
      RouterMessage message = received.poll(quiet.toNanos(), TimeUnit.NANOSECONDS);
      if (message != null) {
        throw new AssertionError("expected nothing from the router, got " + message);
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
