package ai.pingvas.generation.http;

import ai.pingvas.generation.domain.Job;
import ai.pingvas.generation.events.EventBuffer;
import ai.pingvas.generation.events.StreamHub;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.platform.auth.Authenticator;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/stream}: a client's live events. Authenticated during the handshake with the
 * bearer header or, for browsers, the {@code access_token} query parameter. Clients send
 * {@code ping} (answered with {@code pong}) and, after reconnecting, {@code resume} with the last
 * seq they saw per job: missed events are replayed in order, or a {@code job.snapshot} is sent
 * when they are no longer buffered.
 */
final class StreamGateway {
  private static final int MAX_RESUME_JOBS = 500;
  private final StreamHub hub;
  private final Authenticator authenticator;
  private final EventBuffer buffer;
  private final JobStore store;
  private final String publicUrl;

  StreamGateway(StreamHub hub, Authenticator authenticator, EventBuffer buffer, JobStore store, String publicUrl) {
    this.hub = hub;
    this.authenticator = authenticator;
    this.buffer = buffer;
    this.store = store;
    this.publicUrl = publicUrl;
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
    // one resume's snapshot lookup at a time per stream: a client cannot queue up database work
    boolean[] resuming = {false};
    hub.add(principal.userId(), socket);
    socket.closeHandler(v -> hub.remove(principal.userId(), socket));
    socket.textMessageHandler(text -> {
      JsonObject message;
      try {
        message = new JsonObject(text);
      } catch (RuntimeException e) {
        socket.writeTextMessage(error("bad_message", "frames must be JSON objects"));
        return;
      }
      switch (String.valueOf(message.getValue("type"))) {
        case "ping" -> socket.writeTextMessage(new JsonObject().put("type", "pong").encode());
        case "resume" -> {
          if (resuming[0]) {
            socket.writeTextMessage(error("resume_in_progress", "the previous resume is still being answered; "
                + "send the next one after its snapshots"));
          } else {
            resuming[0] = true;
            resume(principal, socket, message.getValue("after")).onComplete(v -> resuming[0] = false);
          }
        }
        default -> socket.writeTextMessage(error("bad_message", "unknown message type; send ping or resume"));
      }
    });
    socket.writeTextMessage(new JsonObject().put("type", "stream.open").put("user_id", principal.userId()).encode());
  }

  /**
   * Replays what the buffer holds and sends a snapshot of each other job that changed since, all
   * looked up in one query (it was one per job: a frame naming 500 unknown ids cost 500 lookups).
   * Completes once answered.
   */
  private Future<Void> resume(Principal principal, ServerWebSocket socket, Object after) {
    if (!(after instanceof JsonObject seen) || seen.size() > MAX_RESUME_JOBS) {
      socket.writeTextMessage(error("bad_resume", "resume needs after: {job_id: last seq} for at most "
          + MAX_RESUME_JOBS + " jobs"));
      return Future.succeededFuture();
    }
    Map<String, Integer> unbuffered = new LinkedHashMap<>();
    for (String jobId : seen.fieldNames()) {
      Object seq = seen.getValue(jobId);
      if (!(seq instanceof Number number) || !Uuids.isUuid(jobId)) {
        continue;
      }
      List<JsonObject> missed = buffer.after(jobId, principal.userId(), number.intValue());
      if (missed != null) {
        missed.forEach(event -> {
          JsonObject view = event.copy();
          view.remove("user_id");
          socket.writeTextMessage(view.put("replayed", true).encode());
        });
      } else {
        unbuffered.put(Uuids.canonical(jobId), number.intValue());
      }
    }
    if (unbuffered.isEmpty()) {
      return Future.succeededFuture();
    }
    return store.getAll(principal.userId(), List.copyOf(unbuffered.keySet())).onSuccess(jobs -> {
      for (Job job : jobs) {
        Integer seenSeq = unbuffered.get(job.id());
        if (seenSeq != null && job.eventSeq() > seenSeq) {
          socket.writeTextMessage(new JsonObject().put("type", "job.snapshot").put("job_id", job.id())
              .put("seq", job.eventSeq()).put("ts", java.time.Instant.now().toString())
              .put("job", JobView.of(job, null, publicUrl)).encode());
        }
      }
    }).<Void>mapEmpty().recover(err -> {
      socket.writeTextMessage(error("resume_failed", "the jobs could not be looked up; resume again shortly"));
      return Future.succeededFuture();
    });
  }

  private static String error(String code, String detail) {
    return new JsonObject().put("type", "error").put("code", code).put("detail", detail).encode();
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
