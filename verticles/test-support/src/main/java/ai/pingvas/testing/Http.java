package ai.pingvas.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A plain HTTP client of a service's API, as a user's program would use it: bearer credentials,
 * JSON bodies, no redirects followed (tests look at the 302s themselves).
 */
public final class Http {
  private static final HttpClient CLIENT = client();
  private final String base;

  /**
   * The JDK client tests should use: HTTP/1.1, as probes and Prometheus speak it (our servers refuse
   * the h2c upgrade anyway, see ServerOptions), no redirects followed, 5 s to connect.
   * Also the client to open WebSockets with.
   */
  public static HttpClient client() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  public Http(String base) {
    this.base = base;
  }

  public record Response(int status, HttpHeaders headers, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  public Response get(String path, String bearer) {
    return send("GET", path, bearer, null);
  }

  /** A POST without a body. */
  public Response post(String path, String bearer) {
    return send("POST", path, bearer, null);
  }

  public Response post(String path, String bearer, JsonObject body, String... headers) {
    return send("POST", path, bearer, body == null ? null : body.encode(), headers);
  }

  public Response post(String path, String bearer, String body, String... headers) {
    return send("POST", path, bearer, body, headers);
  }

  /** Any method; a non-null body is sent as {@code application/json}; headers are name, value pairs. */
  public Response send(String method, String path, String bearer, String body, String... headers) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      builder.header("Content-Type", "application/json");
    }
    if (bearer != null) {
      builder.header("Authorization", "Bearer " + bearer);
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      builder.setHeader(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> r = CLIENT.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
