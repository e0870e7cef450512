package ai.pingvas.generation.events;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client WebSockets ({@code /v1/stream}) open on this replica, by user. The Kafka fan-out
 * delivers each job event to the sockets of the job's owner; a socket that cannot keep up (write
 * queue full) is closed rather than buffering without bound — the client reconnects and resumes.
 */
public final class StreamHub {
  private final Map<String, Set<ServerWebSocket>> byUser = new ConcurrentHashMap<>();
  private final AtomicInteger sockets = new AtomicInteger();

  public StreamHub(MeterRegistry registry) {
    Gauge.builder("pingvas_stream_clients", sockets, AtomicInteger::get)
        .description("client event-stream WebSockets open on this replica").register(registry);
  }

  public void add(String userId, ServerWebSocket socket) {
    byUser.computeIfAbsent(userId, u -> ConcurrentHashMap.newKeySet()).add(socket);
    sockets.incrementAndGet();
  }

  public void remove(String userId, ServerWebSocket socket) {
    Set<ServerWebSocket> set = byUser.get(userId);
    if (set != null && set.remove(socket)) {
      sockets.decrementAndGet();
      if (set.isEmpty()) {
        byUser.remove(userId, set);
      }
    }
  }

  public boolean connected(String userId) {
    return byUser.containsKey(userId);
  }

  public Set<String> users() {
    return byUser.keySet();
  }

  /** Sends an event to every socket of the user. */
  public void deliver(String userId, JsonObject event) {
    Set<ServerWebSocket> set = byUser.get(userId);
    if (set == null) {
      return;
    }
    String text = event.encode();
    for (ServerWebSocket socket : set) {
      if (socket.writeQueueFull()) {
        socket.close((short) 1013, "too slow; reconnect and resume");
        remove(userId, socket);
      } else {
        socket.writeTextMessage(text);
      }
    }
  }
}
