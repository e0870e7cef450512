package ai.pingvas.generation.http;

import ai.pingvas.generation.dispatch.DispatcherVerticle;
import ai.pingvas.generation.dispatch.WorkerSession;
import ai.pingvas.protocol.ProtocolException;
import ai.pingvas.protocol.WorkerMessage;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/workers/connect}: workers dial in with the shared worker token and speak the
 * worker protocol over the WebSocket; frames go to the dispatcher, which answers on the socket.
 */
final class WorkerGateway {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerGateway.class);
  private final Vertx vertx;
  private final byte[] token;

  WorkerGateway(Vertx vertx, String token) {
    this.vertx = vertx;
    this.token = token == null ? new byte[0] : token.getBytes(StandardCharsets.UTF_8);
  }

  void handshake(ServerWebSocketHandshake handshake) {
    String header = handshake.headers().get("Authorization");
    String presented = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : null;
    if (token.length == 0 || presented == null
        || !MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
      LOG.atWarn().addKeyValue("remote", String.valueOf(handshake.remoteAddress()))
          .log("refused a worker connection without the worker token");
      handshake.reject(401);
      return;
    }
    handshake.accept().onSuccess(this::serve);
  }

  private void serve(ServerWebSocket socket) {
    WorkerSession session = new WorkerSession(socket);
    socket.textMessageHandler(text -> {
      WorkerMessage message;
      try {
        message = WorkerMessage.parse(text);
      } catch (ProtocolException e) {
        LOG.atWarn().addKeyValue("remote", session.remote()).addKeyValue("worker_id", session.workerId())
            .log("closing worker connection: {}", e.getMessage());
        session.close(1008, e.getMessage());
        return;
      }
      vertx.eventBus().send(DispatcherVerticle.WORKER_FRAME, new WorkerSession.Frame(session, message));
    });
    socket.closeHandler(v -> vertx.eventBus().send(DispatcherVerticle.WORKER_CLOSED,
        new WorkerSession.Closed(session)));
    // the server shuts down (this replica stops): the dispatcher gets back what waits in the
    // worker's queue, then closes the socket itself, within the shutdown grace
    socket.shutdownHandler(v -> vertx.eventBus().send(DispatcherVerticle.WORKER_SHUTDOWN,
        new WorkerSession.Closed(session)));
    socket.exceptionHandler(err -> LOG.debug("worker socket error: {}", err.toString()));
  }
}
