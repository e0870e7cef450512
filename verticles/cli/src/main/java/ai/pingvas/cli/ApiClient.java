package ai.pingvas.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;

/**
 * The public HTTP API over the JDK's HttpClient: JSON in and out, the bearer credential, problem+json
 * errors turned into {@link CliException}s with their exit code, and access tokens refreshed (and
 * saved) before they expire.
 */
public final class ApiClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private final HttpClient http;
  private final URI base;
  private final Credential credential;

  /** What authenticates requests: an API key, or an access token with its refresh token. */
  public interface Credential {
    /** The bearer value to send now (refreshing first if needed). */
    String bearer(ApiClient api);

    /** Called after a 401: true when the credential could be renewed and the request is worth retrying. */
    default boolean renew(ApiClient api) {
      return false;
    }
  }

  public ApiClient(URI base, Credential credential) {
    this.base = base;
    this.credential = credential;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  public URI base() {
    return base;
  }

  public HttpClient http() {
    return http;
  }

  /** The credential's bearer value now, or null when there is none. */
  public String bearer() {
    return credential == null ? null : credential.bearer(this);
  }

  public JsonObject get(String path) {
    return send("GET", path, null, true).getAsJsonObject();
  }

  public JsonObject post(String path, JsonElement body) {
    JsonElement result = send("POST", path, body, true);
    return result.isJsonObject() ? result.getAsJsonObject() : new JsonObject();
  }

  /** POST without a credential (login, refresh). */
  public JsonObject postAnonymous(String path, JsonElement body) {
    return send("POST", path, body, false).getAsJsonObject();
  }

  public void delete(String path) {
    send("DELETE", path, null, true);
  }

  private JsonElement send(String method, String path, JsonElement body, boolean authenticated) {
    HttpResponse<String> response = exchange(method, path, body, authenticated);
    if (response.statusCode() == 401 && authenticated && credential != null && credential.renew(this)) {
      response = exchange(method, path, body, true);
    }
    if (response.statusCode() >= 300) {
      throw problem(response.statusCode(), response.body(), method + " " + path);
    }
    String text = response.body();
    return text == null || text.isBlank() ? new JsonObject() : JsonParser.parseString(text);
  }

  private HttpResponse<String> exchange(String method, String path, JsonElement body, boolean authenticated) {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
        .header("Accept", "application/json, application/problem+json")
        .header("User-Agent", "pingvas-cli");
    if (authenticated) {
      String bearer = bearer();
      if (bearer == null) {
        throw new CliException(Exit.AUTH, "not logged in: run 'pingvas login' or pass --api-key");
      }
      request.header("Authorization", "Bearer " + bearer);
    }
    if (body != null) {
      request.header("Content-Type", "application/json").method(method,
          HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(Exit.SERVER, "interrupted");
    }
  }

  /**
   * Saves an image's PNG to {@code target}: {@code /v1/images/{id}/content} answers with a redirect to
   * a presigned URL, which is fetched without our credential (it carries its own signature).
   */
  public void download(String imageId, Path target) {
    String path = "/v1/images/" + imageId + "/content";
    HttpResponse<String> redirect = exchange("GET", path, null, true);
    if (redirect.statusCode() == 401 && credential != null && credential.renew(this)) {
      redirect = exchange("GET", path, null, true);
    }
    if (redirect.statusCode() != 302 && redirect.statusCode() != 307 && redirect.statusCode() != 303) {
      throw problem(redirect.statusCode(), redirect.body(), "GET " + path);
    }
    URI location = base.resolve(redirect.headers().firstValue("Location")
        .orElseThrow(() -> new CliException(Exit.SERVER, "GET " + path + ": redirect without a Location")));
    try {
      HttpResponse<InputStream> content = http.send(HttpRequest.newBuilder(location).timeout(Duration.ofMinutes(2))
          .build(), HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = content.body()) {
        if (content.statusCode() != 200) {
          throw new CliException(Exit.SERVER, "downloading image " + imageId + ": storage answered "
              + content.statusCode());
        }
        Path temp = Files.createTempFile(target.toAbsolutePath().getParent(), ".download", ".part");
        try {
          Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
          Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
          Files.deleteIfExists(temp);
        }
      }
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(Exit.SERVER, "interrupted");
    }
  }

  private CliException unreachable(IOException e) {
    String why = e instanceof ConnectException ? "connection refused"
        : e instanceof HttpTimeoutException ? "timed out" : String.valueOf(e.getMessage());
    return new CliException(Exit.SERVER, "cannot reach " + base + ": " + why, null, e);
  }

  /** An error response as a CliException: the problem's detail, its code, and the exit code for its status. */
  static CliException problem(int status, String body, String what) {
    JsonObject problem = null;
    try {
      JsonElement parsed = body == null || body.isBlank() ? null : JsonParser.parseString(body);
      problem = parsed != null && parsed.isJsonObject() ? parsed.getAsJsonObject() : null;
    } catch (RuntimeException notJson) {
      problem = null;
    }
    String code = problem == null ? null : Output.string(problem, "code");
    StringBuilder message = new StringBuilder();
    if (problem != null) {
      String detail = Output.string(problem, "detail");
      String title = Output.string(problem, "title");
      message.append(detail != null ? detail : title != null ? title : "HTTP " + status);
      if (problem.has("errors") && problem.get("errors").isJsonArray()) {
        problem.getAsJsonArray("errors").forEach(e -> {
          if (e.isJsonObject()) {
            message.append("\n  ").append(Output.string(e.getAsJsonObject(), "pointer")).append(": ")
                .append(Output.string(e.getAsJsonObject(), "detail"));
          }
        });
      }
    } else {
      message.append(what).append(": HTTP ").append(status);
    }
    if (code != null) {
      message.append(" [").append(code).append(']');
    }
    return new CliException(Exit.forStatus(status, code), message.toString(), problem, null);
  }

  /** An API key: sent as it is. */
  public record ApiKey(String key) implements Credential {
    @Override
    public String bearer(ApiClient api) {
      return key;
    }
  }

  /** An access token from a password login: refreshed shortly before it expires, and saved again. */
  public static final class Tokens implements Credential {
    private final ConfigFile file;
    private final JsonObject settings;

    public Tokens(ConfigFile file, JsonObject settings) {
      this.file = file;
      this.settings = settings;
    }

    @Override
    public String bearer(ApiClient api) {
      long expiresAt = settings.has("expires_at") ? settings.get("expires_at").getAsLong() : Long.MAX_VALUE;
      if (Instant.now().getEpochSecond() > expiresAt - 30) {
        renew(api);
      }
      return Output.string(settings, "access_token");
    }

    @Override
    public boolean renew(ApiClient api) {
      String refresh = Output.string(settings, "refresh_token");
      if (refresh == null) {
        return false;
      }
      JsonObject body = new JsonObject();
      body.addProperty("grant_type", "refresh_token");
      body.addProperty("refresh_token", refresh);
      JsonObject tokens;
      try {
        tokens = api.postAnonymous("/v1/auth/token", body);
      } catch (CliException e) {
        if (e.exitCode() == Exit.AUTH || e.exitCode() == Exit.USAGE) {
          throw new CliException(Exit.AUTH, "your login has expired: run 'pingvas login' again", e.problem(), e);
        }
        throw e;
      }
      store(settings, tokens);
      file.save(settings);
      return true;
    }

    /** Copies a token response into the saved settings. */
    static void store(JsonObject settings, JsonObject tokens) {
      settings.addProperty("access_token", Output.string(tokens, "access_token"));
      settings.addProperty("refresh_token", Output.string(tokens, "refresh_token"));
      long lifetime = tokens.has("expires_in") ? tokens.get("expires_in").getAsLong() : 900;
      settings.addProperty("expires_at", Instant.now().getEpochSecond() + lifetime);
      settings.remove("api_key");
    }
  }
}
