package ai.pingvas.cli;

import com.google.gson.JsonObject;
import picocli.CommandLine.Command;

/** {@code pingvas logout}: revokes a login's refresh token and deletes the saved credential. */
@Command(name = "logout", description = "Forget the saved login (revoking its refresh token, if any).")
final class LogoutCommand extends ApiCommand {
  @Override
  int run() {
    ConfigFile file = configFile();
    JsonObject saved = file.load();
    String refresh = Output.string(saved, "refresh_token");
    if (refresh != null) {
      JsonObject body = new JsonObject();
      body.addProperty("refresh_token", refresh);
      try {
        new ApiClient(apiUrl(saved), null).postAnonymous("/v1/auth/revoke", body);
      } catch (CliException e) {
        err().println("pingvas: could not revoke the refresh token (" + e.getMessage() + "); forgetting it anyway");
      }
    }
    boolean deleted = file.delete();
    if (json()) {
      JsonObject result = new JsonObject();
      result.addProperty("logged_out", deleted);
      result.addProperty("config", file.path().toString());
      Output.json(out(), result);
    } else {
      out().println(deleted ? "Logged out; removed " + file.path() : "Not logged in.");
    }
    return Exit.OK;
  }
}
