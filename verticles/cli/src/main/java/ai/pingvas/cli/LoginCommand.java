package ai.pingvas.cli;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pingvas login}: checks a credential against the API and saves it (owner-only file). */
@Command(name = "login", description = {
    "Log in and save the credential (owner-only file).",
    "The file is ~/.config/pingvas/config.json (mode 0600; see PINGVAS_CONFIG).",
    "With --api-key KEY (or --api-key-stdin) the key is checked and saved; with --email the password is read",
    "from the terminal (or --password-stdin) and exchanged for tokens at user-service. With neither, you are asked."})
final class LoginCommand extends ApiCommand {
  @Option(names = "--email", paramLabel = "EMAIL", description = "Log in with this account's email and password")
  String email;

  @Option(names = "--password-stdin", description = "Read the password from standard input")
  boolean passwordStdin;

  @Option(names = "--api-key-stdin", description = "Read the API key from standard input")
  boolean apiKeyStdin;

  @Override
  int run() {
    ConfigFile file = configFile();
    JsonObject saved = file.load();
    URI url = apiUrl(saved);
    String key = common.apiKey;
    if (apiKeyStdin) {
      key = readLine("");
    }
    if (key == null && email == null) {
      key = ask("API key (leave empty to log in with email and password): ");
      if (key == null || key.isBlank()) {
        key = null;
        email = prompt("Email: ");
      }
    }
    JsonObject settings = new JsonObject();
    settings.addProperty("api_url", url.toString());
    String method;
    if (key != null && !key.isBlank()) {
      ApiClient client = new ApiClient(url, new ApiClient.ApiKey(key.trim()));
      client.get("/v1/generations?limit=1");
      settings.addProperty("api_key", key.trim());
      method = "api_key";
    } else {
      if (email == null || email.isBlank()) {
        throw new CliException(Exit.USAGE, "give --api-key KEY or --email EMAIL");
      }
      String password = passwordStdin ? readLine("") : askSecret("Password: ");
      JsonObject body = new JsonObject();
      body.addProperty("grant_type", "password");
      body.addProperty("email", email.trim());
      body.addProperty("password", password);
      JsonObject tokens;
      try {
        tokens = new ApiClient(url, null).postAnonymous("/v1/auth/token", body);
      } catch (CliException e) {
        if (e.exitCode() == Exit.NOT_FOUND) {
          throw new CliException(Exit.NOT_FOUND, url + " has no email login (no user-service): use --api-key",
              e.problem(), e);
        }
        throw e;
      }
      ApiClient.Tokens.store(settings, tokens);
      method = "password";
    }
    file.save(settings);
    if (json()) {
      JsonObject result = new JsonObject();
      result.addProperty("api_url", url.toString());
      result.addProperty("method", method);
      result.addProperty("config", file.path().toString());
      Output.json(out(), result);
    } else {
      out().println("Logged in to " + url + " (" + (method.equals("api_key") ? "API key" : email) + "); saved to "
          + file.path());
    }
    return Exit.OK;
  }

  private String ask(String question) {
    Console console = System.console();
    if (!interactive() || console == null) {
      throw new CliException(Exit.USAGE, "not a terminal: give --api-key KEY, --api-key-stdin or --email EMAIL");
    }
    char[] answer = console.readPassword("%s", question);
    return answer == null ? null : new String(answer);
  }

  private String prompt(String question) {
    Console console = System.console();
    if (!interactive() || console == null) {
      throw new CliException(Exit.USAGE, "not a terminal: give --email EMAIL --password-stdin");
    }
    return console.readLine("%s", question);
  }

  private String askSecret(String question) {
    String secret = ask(question);
    if (secret == null || secret.isEmpty()) {
      throw new CliException(Exit.USAGE, "no password given");
    }
    return secret;
  }

  private static String readLine(String fallback) {
    try {
      String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return line == null ? fallback : line.trim();
    } catch (IOException e) {
      throw new CliException(Exit.USAGE, "cannot read standard input: " + e.getMessage());
    }
  }
}
