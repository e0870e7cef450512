package ai.pingvas.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code pingvas}: the command-line client of Pingvas Studio's public API. */
@Command(name = "pingvas", mixinStandardHelpOptions = true, versionProvider = Pingvas.Version.class,
    description = "Generate images with Pingvas Studio, follow jobs live, manage your gallery and, as an operator,"
        + " the workers and the queue.",
    subcommands = {LoginCommand.class, LogoutCommand.class, GenerateCommand.class, JobsCommand.class,
        ImagesCommand.class, WorkersCommand.class, QueueCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
        "0:success",
        "1:the job failed or was canceled",
        "2:usage error, or the API refused the request as invalid (400/422)",
        "3:not logged in, credential rejected (401) or admin role missing (403)",
        "4:not found (404)",
        "5:server error (5xx) or the server could not be reached",
        "6:refused: conflict, credits, rate or quota limit (402/409/429/422)"},
    footerHeading = "%nEnvironment:%n", footer = {
        "  PINGVAS_API_URL, PINGVAS_API_KEY  override the saved login",
        "  PINGVAS_CONFIG    the login file (default: ~/.config/pingvas/config.json)"})
public final class Pingvas implements Runnable {
  private final Map<String, String> env;
  private final boolean interactive;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  Pingvas(Map<String, String> env, boolean interactive) {
    this.env = Map.copyOf(env);
    this.interactive = interactive;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    System.exit(run(args, System.getenv(), System.console() != null, out, err));
  }

  /** Runs one command line; returns its exit code (see {@link Exit}). */
  public static int run(String[] args, Map<String, String> env, boolean interactive, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Pingvas(env, interactive));
    cli.setOut(out).setErr(err).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("pingvas: unexpected error: " + e);
      return Exit.SERVER;
    });
    return cli.execute(args);
  }

  Map<String, String> env() {
    return env;
  }

  boolean interactive() {
    return interactive;
  }

  @Override
  public void run() {
    // "pingvas" alone prints the usage, and exits 2 like any other incomplete command line.
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Pingvas.class.getPackage().getImplementationVersion();
      return new String[] {"pingvas " + (version == null ? "dev" : version)};
    }
  }
}
