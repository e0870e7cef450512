package ai.pingvas.generation.http;

import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.Principal;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /v1/stream}: a client's live events. Authenticated during the handshake with the
 * bearer header or, for browsers, the {@code access_token} query parameter; afterwards the server
 * only pushes (a {@code ping} text frame is answered with {@code pong}).
 */
final class StreamGateway {
  private final StreamHub hub;
  private final Authenticator authenticator;

  StreamGateway(StreamHub hub, Authenticator authenticator) {
    this.hub = hub;
    this.authenticator = authenticator;
  }

  void handshake(ServerWebSocketHandshake handshake) {
    String credential = credential(handshake);
    if (credential == null) {
      handshake.reject(401);
      return;
    }
    authenticator.authenticate(credential).onComplete(
        principal -> handshake.accept().onSuccess(socket -> serve(principal, socket)),
        err -> handshake.reject(401));
  }

  private void serve(Principal principal, ServerWebSocket socket) {
    hub.add(principal.userId(), socket);
    socket.closeHandler(v -> hub.remove(principal.userId(), socket));
    socket.textMessageHandler(text -> {
      if (text.contains("\"ping\"")) {
        socket.writeTextMessage(new JsonObject().put("type", "pong").encode());
      }
    });
    socket.writeTextMessage(new JsonObject().put("type", "stream.open").put("user_id", principal.userId()).encode());
  }

  static String credential(ServerWebSocketHandshake handshake) {
    String header = handshake.headers().get("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String value = header.substring(7).trim();
      return value.isEmpty() ? null : value;
    }
    String query = handshake.query();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (pair.startsWith("access_token=")) {
          String value = URLDecoder.decode(pair.substring(13), StandardCharsets.UTF_8);
          return value.isEmpty() ? null : value;
        }
      }
    }
    return null;
  }
}
