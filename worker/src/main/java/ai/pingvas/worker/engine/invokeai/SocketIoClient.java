package ai.pingvas.worker.engine.invokeai;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal socket.io client for InvokeAI's event stream: Engine.IO v4 over a WebSocket at
 * {@code /ws/socket.io/?EIO=4&transport=websocket}, the default namespace, server-to-client events
 * {@code 42["name", {...}]}. It answers pings, subscribes to the queue on every connect and
 * reconnects with backoff; events arrive on the Vert.x context that started it.
 */
final class SocketIoClient {
  private static final Logger LOG = LoggerFactory.getLogger(SocketIoClient.class);

  private final Vertx vertx;
  private final String url;
  private final String queueId;
  private final BiConsumer<String, JsonObject> onEvent;
  private final WebSocketClient client;
  private WebSocket socket;
  private volatile boolean connected;
  private boolean closed;
  private int failures;

  SocketIoClient(Vertx vertx, String baseUrl, String queueId, BiConsumer<String, JsonObject> onEvent) {
    this.vertx = vertx;
    URI base = URI.create(baseUrl);
    String scheme = "https".equals(base.getScheme()) ? "wss" : "ws";
    this.url = scheme + "://" + base.getHost() + ":" + port(base) + "/ws/socket.io/?EIO=4&transport=websocket";
    this.queueId = queueId;
    this.onEvent = onEvent;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(5_000)
        .setMaxMessageSize(16 * 1024 * 1024).setMaxFrameSize(4 * 1024 * 1024));
  }

  private static int port(URI uri) {
    return uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
  }

  /** True between the namespace connect and the socket's end: events are flowing. */
  boolean connected() {
    return connected;
  }

  void start() {
    connect();
  }

  private void connect() {
    if (closed) {
      return;
    }
    client.connect(new WebSocketConnectOptions().setAbsoluteURI(url)).onSuccess(ws -> {
      socket = ws;
      ws.textMessageHandler(this::onPacket);
      ws.closeHandler(v -> onClosed(ws));
      ws.exceptionHandler(err -> LOG.debug("InvokeAI socket error: {}", err.toString()));
    }).onFailure(err -> {
      LOG.atDebug().addKeyValue("url", url).addKeyValue("error", err.toString()).log("InvokeAI events unreachable");
      retry();
    });
  }

  private void onClosed(WebSocket ws) {
    if (socket != ws) {
      return;
    }
    socket = null;
    connected = false;
    retry();
  }

  private void retry() {
    if (closed) {
      return;
    }
    failures = Math.min(failures + 1, 6);
    vertx.setTimer(100L << failures, id -> connect());
  }

  private void onPacket(String packet) {
    if (packet.isEmpty()) {
      return;
    }
    switch (packet.charAt(0)) {
      case '0' -> send("40");                       // Engine.IO open: join the default namespace
      case '2' -> send("3");                        // ping -> pong
      case '1' -> socket.close();                   // server closes the session
      case '4' -> onMessage(packet.substring(1));
      default -> {
      }
    }
  }

  private void onMessage(String message) {
    if (message.startsWith("0")) {                  // namespace connected
      connected = true;
      failures = 0;
      emit("subscribe_queue", new JsonObject().put("queue_id", queueId));
    } else if (message.startsWith("4")) {           // connect error
      LOG.warn("InvokeAI refused the socket.io connection: {}", message.substring(1));
    } else if (message.startsWith("2")) {           // event
      JsonArray event = new JsonArray(message.substring(1));
      if (event.size() >= 2 && event.getValue(1) instanceof JsonObject payload) {
        onEvent.accept(event.getString(0), payload);
      }
    }
  }

  private void emit(String name, JsonObject payload) {
    send("42" + new JsonArray().add(name).add(payload).encode());
  }

  private void send(String packet) {
    WebSocket ws = socket;
    if (ws != null && !ws.isClosed()) {
      ws.writeTextMessage(packet);
    }
  }

  void close() {
    closed = true;
    connected = false;
    if (socket != null) {
      socket.close();
    }
    client.close();
  }
}
