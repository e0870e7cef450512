package ai.pingvas.generation;

import ai.pingvas.testing.Http;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A plain HTTP/WebSocket client of the public API, as a user's program would use it. */
final class ApiClient {
  private static final HttpClient HTTP = Http.client();
  private final String base;

  ApiClient(String base) {
    this.base = base;
  }

  record Response(int status, java.net.http.HttpHeaders headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String contentType() {
      return headers.firstValue("Content-Type").orElse("");
    }
  }

  /** Submits a 64×64 generation as {@code key}; the job's id (anything but 202 fails the test). */
  String submit(String key, String model, String prompt, int steps) {
    Response response = post("/v1/generations", key, new JsonObject().put("model", model).put("prompt", prompt)
        .put("steps", steps).put("width", 64).put("height", 64).encode());
    if (response.status() != 202) {
      throw new AssertionError("submission answered " + response.status() + ": " + response.body());
    }
    return response.json().getString("id");
  }

  Response get(String path, String key) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), key);
  }

  Response post(String path, String key, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.setHeader(headers[i], headers[i + 1]);
    }
    return send(b, key);
  }

  Response put(String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b, null);
  }

  Response patch(String path, String key, String body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).method("PATCH", HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json"), key);
  }

  Response send(String method, String path, String key) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).method(method, HttpRequest.BodyPublishers.noBody()),
        key);
  }

  Response postBytes(String path, String key, byte[] body) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .header("Content-Type", "application/json"), key);
  }

  /** The sum of a Prometheus metric's series on this service's {@code /metrics}. */
  /**
   * Polls the job until its status is {@code status} and returns it; after {@code timeout} fails
   * with the status it stayed in.
   */
  JsonObject awaitStatus(String key, String id, String status, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonObject job;
    do {
      job = get("/v1/generations/" + id, key).json();
      if (status.equals(job.getString("status"))) {
        return job;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for job " + id, e);
      }
    } while (System.nanoTime() < deadline);
    throw new AssertionError("job " + id + " stayed " + job.getString("status") + ", expected " + status);
  }

  double metric(String name) {
    return metric(name, "");
  }

  /** The sum of a metric's series whose labels include {@code label} (e.g. {@code outcome="known"}). */
  double metric(String name, String label) {
    double total = 0;
    for (String line : get("/metrics", null).body().split("\n")) {
      if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && line.contains(label)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  private Response send(HttpRequest.Builder builder, String key) {
    if (key != null) {
      builder.header("Authorization", "Bearer " + key);
    }
    try {
      HttpResponse<String> r = HTTP.send(builder.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Opens {@code /v1/stream} and collects every event it receives. */
  EventStream stream(String key) {
    EventStream stream = new EventStream();
    String ws = base.replace("http://", "ws://") + "/v1/stream";
    stream.socket = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + key)
        .buildAsync(URI.create(ws), stream).orTimeout(10, TimeUnit.SECONDS).join();
    stream.awaitEvent(e -> "stream.open".equals(e.getString("type")), Duration.ofSeconds(10));
    return stream;
  }

  static final class EventStream implements WebSocket.Listener, AutoCloseable {
    final List<JsonObject> events = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    WebSocket socket;

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        events.add(new JsonObject(partial.toString()));
        partial.setLength(0);
        synchronized (this) {
          notifyAll();
        }
      }
      webSocket.request(1);
      return null;
    }

    /** Waits for an event matching the predicate; fails the test after the timeout. */
    synchronized JsonObject awaitEvent(Predicate<JsonObject> match, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (JsonObject e : events) {
          if (match.test(e)) {
            return e;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("no matching event within " + timeout + "; got " + events);
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
    }

    List<JsonObject> forJob(String jobId) {
      return events.stream().filter(e -> jobId.equals(e.getString("job_id"))).toList();
    }

    @Override
    public void close() {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
  }
}
