package ai.pingvas.generation.dispatch;

import ai.pingvas.protocol.RouterMessage;
import io.vertx.core.http.ServerWebSocket;
import java.util.UUID;

/** One worker WebSocket on this replica. Writes are safe from any thread. */
public final class WorkerSession {
  private final String id = UUID.randomUUID().toString();
  private final ServerWebSocket socket;
  private final String remote;
  private volatile String workerId;

  public WorkerSession(ServerWebSocket socket) {
    this.socket = socket;
    this.remote = String.valueOf(socket.remoteAddress());
  }

  public String id() {
    return id;
  }

  public String remote() {
    return remote;
  }

  public String workerId() {
    return workerId;
  }

  void identify(String workerId) {
    this.workerId = workerId;
  }

  public boolean send(RouterMessage message) {
    if (socket.isClosed()) {
      return false;
    }
    socket.writeTextMessage(message.toJson().encode());
    return true;
  }

  public boolean isClosed() {
    return socket.isClosed();
  }

  public void close(int code, String reason) {
    if (!socket.isClosed()) {
      socket.close((short) code, reason);
    }
  }

  /** Messages between the gateway (socket side) and the dispatcher. */
  public record Frame(WorkerSession session, ai.pingvas.protocol.WorkerMessage message) {
  }

  public record Closed(WorkerSession session) {
  }
}
