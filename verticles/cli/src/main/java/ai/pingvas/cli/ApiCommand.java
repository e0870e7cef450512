package ai.pingvas.cli;

import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the API: resolves the URL and credential (option, environment, saved
 * login), and turns a {@link CliException} into its message and exit code.
 */
abstract class ApiCommand implements Callable<Integer> {
  static final String DEFAULT_URL = "http://localhost:8080";

  @Mixin
  CommonOptions common;

  @Spec
  CommandSpec spec;

  private ApiClient api;

  /** Does the work; returns the exit code. */
  abstract int run();

  @Override
  public final Integer call() {
    try {
      return run();
    } catch (CliException e) {
      return report(e);
    }
  }

  int report(CliException e) {
    err().println("pingvas: " + e.getMessage());
    err().flush();
    if (common.json) {
      JsonObject error = e.problem() != null ? e.problem().deepCopy() : new JsonObject();
      error.addProperty("exit_code", e.exitCode());
      if (!error.has("detail")) {
        error.addProperty("detail", e.getMessage());
      }
      JsonObject document = new JsonObject();
      document.add("error", error);
      Output.json(out(), document);
    }
    return e.exitCode();
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  boolean json() {
    return common.json;
  }

  Map<String, String> env() {
    return ((Pingvas) spec.root().userObject()).env();
  }

  boolean interactive() {
    return ((Pingvas) spec.root().userObject()).interactive();
  }

  ConfigFile configFile() {
    return ConfigFile.locate(env());
  }

  /** The API base URL: --api-url, $PINGVAS_API_URL, the saved login, else the dev stack's. */
  URI apiUrl(JsonObject saved) {
    String url = first(common.apiUrl, env().get("PINGVAS_API_URL"), Output.string(saved, "api_url"), DEFAULT_URL);
    try {
      URI uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
      if (uri.getScheme() == null || !uri.getScheme().startsWith("http") || uri.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw new CliException(Exit.USAGE, "bad API URL '" + url + "': " + e.getMessage());
    }
  }

  ApiClient api() {
    if (api == null) {
      ConfigFile file = configFile();
      JsonObject saved = file.load();
      String key = first(common.apiKey, env().get("PINGVAS_API_KEY"), Output.string(saved, "api_key"));
      ApiClient.Credential credential = key != null ? new ApiClient.ApiKey(key)
          : Output.string(saved, "access_token") != null ? new ApiClient.Tokens(file, saved) : null;
      api = new ApiClient(apiUrl(saved), credential);
    }
    return api;
  }

  static String first(String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    return null;
  }
}
