package ai.pingvas.cli;

import picocli.CommandLine.Option;

/** Options every command takes: where the API is, which credential to use, and JSON output. */
public final class CommonOptions {
  @Option(names = "--api-url", paramLabel = "URL",
      description = "API base URL (default: $PINGVAS_API_URL, the saved login, else http://localhost:8080)")
  String apiUrl;

  @Option(names = "--api-key", paramLabel = "KEY",
      description = "API key or access token for this call (default: $PINGVAS_API_KEY, else the saved login)")
  String apiKey;

  @Option(names = "--json", description = "Print machine-readable JSON on stdout (errors too, as {\"error\": …})")
  boolean json;
}
