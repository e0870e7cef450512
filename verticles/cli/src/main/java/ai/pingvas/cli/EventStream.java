package ai.pingvas.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The {@code /v1/stream} WebSocket: job events in seq order, each once. After a drop it reconnects
 * with exponential backoff and sends {@code {"type":"resume","after":{job: last seq}}} so the server
 * replays what was missed (or answers with a {@code job.snapshot}).
 */
public final class EventStream implements AutoCloseable {
  private static final long BACKOFF_MIN_MS = 250;
  private static final long BACKOFF_MAX_MS = 10_000;

  private final ApiClient api;
  private final URI uri;
  private final Consumer<String> onState;
  private final BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
  private final Map<String, Integer> lastSeq = new ConcurrentHashMap<>();
  private final Set<String> tracked = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "pingvas-stream");
    thread.setDaemon(true);
    return thread;
  });
  private volatile WebSocket socket;
  private volatile boolean closed;
  private volatile int connections;
  private int failures;

  private EventStream(ApiClient api, Consumer<String> onState) {
    this.api = api;
    String base = api.base().toString().replaceFirst("^http", "ws");
    this.uri = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/stream");
    this.onState = onState;
  }

  /** Connects (failing fast on a rejected credential) and keeps the connection up until closed. */
  public static EventStream open(ApiClient api, Consumer<String> onState) {
    EventStream stream = new EventStream(api, onState);
    try {
      stream.connect().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      stream.close();
      if (e.getCause() instanceof WebSocketHandshakeException handshake) {
        int status = handshake.getResponse().statusCode();
        throw new CliException(Exit.forStatus(status, null), "the event stream refused the connection (HTTP "
            + status + ")" + (status == 401 ? ": the credential was rejected" : ""));
      }
      throw new CliException(Exit.SERVER, "cannot open the event stream at " + stream.uri + ": "
          + e.getCause().getMessage(), null, e.getCause());
    } catch (TimeoutException e) {
      stream.close();
      throw new CliException(Exit.SERVER, "the event stream at " + stream.uri + " did not answer");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.close();
      throw new CliException(Exit.SERVER, "interrupted");
    }
    stream.timer.scheduleAtFixedRate(stream::ping, 20, 20, TimeUnit.SECONDS);
    return stream;
  }

  /** Follows a job: a reconnect asks the server for its events after {@code seq}. */
  public void track(String jobId, int seq) {
    tracked.add(jobId);
    lastSeq.merge(jobId, seq, Math::max);
  }

  /** The next event, or null after {@code timeout}. */
  public JsonObject poll(Duration timeout) throws InterruptedException {
    return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** How many times the socket has connected (1 until a drop). */
  public int connections() {
    return connections;
  }

  private CompletableFuture<WebSocket> connect() {
    String bearer = api.bearer();
    return api.http().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + (bearer == null ? "" : bearer))
        .buildAsync(uri, new Listener());
  }

  private void reconnectLater(WebSocket dead) {
    if (closed || socket != dead) {
      return; // closing, or a socket that was already replaced
    }
    socket = null;
    onState.accept("reconnecting");
    scheduleAttempt();
  }

  private void scheduleAttempt() {
    long ceiling;
    synchronized (this) {
      failures++;
      ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS << Math.min(failures - 1, 10));
    }
    // Exponential backoff with full jitter, so many clients do not come back in one wave.
    long delay = ThreadLocalRandom.current().nextLong(BACKOFF_MIN_MS / 2, ceiling + 1);
    if (!closed) {
      timer.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void attempt() {
    if (closed) {
      return;
    }
    try {
      connect().whenComplete((ws, err) -> {
        if (err != null) {
          scheduleAttempt();
        } else if (closed) {
          ws.abort();
        }
      });
    } catch (RuntimeException e) {
      scheduleAttempt(); // e.g. the token could not be refreshed right now
    }
  }

  private void ping() {
    WebSocket current = socket;
    if (current != null && !closed) {
      current.sendText("{\"type\":\"ping\"}", true);
    }
  }

  private void resume(WebSocket ws) {
    if (tracked.isEmpty()) {
      return;
    }
    JsonObject after = new JsonObject();
    tracked.forEach(job -> after.addProperty(job, lastSeq.getOrDefault(job, 0)));
    JsonObject message = new JsonObject();
    message.addProperty("type", "resume");
    message.add("after", after);
    ws.sendText(message.toString(), true);
  }

  private void receive(String text) {
    JsonObject event;
    try {
      JsonElement parsed = JsonParser.parseString(text);
      if (!parsed.isJsonObject()) {
        return;
      }
      event = parsed.getAsJsonObject();
    } catch (RuntimeException e) {
      return;
    }
    String jobId = Output.string(event, "job_id");
    String type = Output.string(event, "type", "");
    if (jobId == null || !type.startsWith("job.")) {
      return;
    }
    if (event.has("seq") && event.get("seq").isJsonPrimitive()) {
      int seq = event.get("seq").getAsInt();
      boolean restates = type.equals("job.snapshot")
          || (type.equals("job.queued") && event.has("refresh") && event.get("refresh").getAsBoolean());
      Integer seen = lastSeq.get(jobId);
      if (seen != null && (seq < seen || (seq == seen && seen > 0 && !restates))) {
        return;
      }
      lastSeq.put(jobId, seq);
    }
    events.add(event);
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    WebSocket current = socket;
    socket = null;
    if (current != null) {
      current.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS)
          .whenComplete((ws, err) -> current.abort());
    }
  }

  /** One per connection; callbacks of a socket that was replaced are ignored. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public void onOpen(WebSocket ws) {
      socket = ws;
      connections++;
      synchronized (EventStream.this) {
        failures = 0;
      }
      resume(ws);
      onState.accept(connections > 1 ? "reconnected" : "open");
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        receive(text);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      reconnectLater(ws);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      reconnectLater(ws);
    }
  }
}
