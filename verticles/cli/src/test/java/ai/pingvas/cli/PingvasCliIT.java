package ai.pingvas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.devstack.DevStack;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real {@code pingvas.jar}, run as a separate process against the dev stack: login, generate
 * (PNGs on disk at the asked size), jobs list/watch/cancel, images, and the exit codes for a
 * rejected credential, a missing job and a bad command line. Admin commands are in their own tests.
 */
class PingvasCliIT {
  private static final Path JAR = Path.of(System.getProperty("pingvas.jar", "target/pingvas.jar"));
  private static DevStack stack;
  private static Path home;

  @BeforeAll
  static void start() throws Exception {
    assertThat(JAR).as("the CLI jar is built before the integration tests").exists();
    stack = DevStack.start(new DevStack.Options(Files.createTempDirectory("pingvas-cli-it"), 0, 2, false,
        Map.of("PINGVAS_ENGINE_STEP_TIME", "60ms")));
    home = Files.createTempDirectory("pingvas-cli-home");
    Result login = pingvas("login", "--api-url", stack.gatewayUrl(), "--api-key", stack.devApiKey());
    assertThat(login.code).as(login.toString()).isZero();
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void loginSavesTheKeyInAnOwnerOnlyFile() throws Exception {
    Path config = home.resolve("config/pingvas/config.json");
    assertThat(Files.getPosixFilePermissions(config)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(config.getParent())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    JsonObject saved = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
    assertThat(saved.get("api_url").getAsString()).isEqualTo(stack.gatewayUrl());
    assertThat(saved.get("api_key").getAsString()).isEqualTo(stack.devApiKey());
  }

  @Test
  void generateSavesEveryImageAtTheAskedSize() throws Exception {
    Path out = Files.createTempDirectory("pingvas-cli-out");
    Result result = pingvas("generate", "a lighthouse at dusk, oil painting", "--model", "sd-1.5", "--count", "2",
        "--width", "320", "--height", "256", "--steps", "12", "--out", out.toString(), "--json");
    assertThat(result.code).as(result.toString()).isZero();
    JsonObject document = result.json().getAsJsonObject();
    assertThat(document.getAsJsonObject("job").get("status").getAsString()).isEqualTo("succeeded");
    JsonArray files = document.getAsJsonArray("files");
    assertThat(files).hasSize(2);
    for (JsonElement file : files) {
      Path png = Path.of(file.getAsJsonObject().get("path").getAsString());
      assertThat(png.getParent()).isEqualTo(out.toAbsolutePath());
      BufferedImage image = ImageIO.read(png.toFile());
      assertThat(image.getWidth()).isEqualTo(320);
      assertThat(image.getHeight()).isEqualTo(256);
    }

    String jobId = document.getAsJsonObject("job").get("id").getAsString();
    Result list = pingvas("jobs", "list", "--json");
    assertThat(list.code).as(list.toString()).isZero();
    List<String> ids = new ArrayList<>();
    list.json().getAsJsonObject().getAsJsonArray("items").forEach(j -> ids.add(j.getAsJsonObject().get("id").getAsString()));
    assertThat(ids).contains(jobId);

    Result human = pingvas("generate", "a small red boat", "--width", "128", "--height", "128", "--steps", "8",
        "--out", out.toString());
    assertThat(human.code).as(human.toString()).isZero();
    assertThat(human.stdout).contains("Saved 1 image");
    assertThat(human.stderr).as("progress on stderr").contains("succeeded").contains("step");
  }

  @Test
  void cancelEndsAWatchedJobWithExitCodeOne() throws Exception {
    Result submitted = pingvas("generate", "a very long render", "--steps", "150", "--no-wait", "--json");
    assertThat(submitted.code).as(submitted.toString()).isZero();
    String jobId = submitted.json().getAsJsonObject().getAsJsonObject("job").get("id").getAsString();

    Process watch = start("jobs", "watch", jobId, "--json");
    Result canceled = pingvas("jobs", "cancel", jobId, "--json");
    assertThat(canceled.code).as(canceled.toString()).isZero();
    assertThat(canceled.json().getAsJsonObject().get("status").getAsString()).isEqualTo("canceled");

    Result watched = finish(watch);
    assertThat(watched.code).as(watched.toString()).isEqualTo(Exit.JOB_FAILED);
    String[] lines = watched.stdout.strip().split("\n");
    assertThat(JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject().get("status").getAsString())
        .isEqualTo("canceled");

    Result again = pingvas("jobs", "cancel", jobId);
    assertThat(again.code).as("a finished job cannot be canceled: %s", again).isEqualTo(Exit.REFUSED);
  }

  @Test
  void imagesListAndDownloadWhatWasGenerated() throws Exception {
    Path out = Files.createTempDirectory("pingvas-cli-images");
    Result made = pingvas("generate", "three pebbles", "--width", "192", "--height", "128", "--steps", "5",
        "--out", out.toString(), "--json");
    assertThat(made.code).as(made.toString()).isZero();
    String imageId = made.json().getAsJsonObject().getAsJsonArray("files").get(0).getAsJsonObject()
        .get("image_id").getAsString();

    Result list = pingvas("images", "list", "--json");
    assertThat(list.code).as(list.toString()).isZero();
    assertThat(list.stdout).contains(imageId);
    Result download = pingvas("images", "download", imageId, "--out", out.resolve("again").toString());
    assertThat(download.code).as(download.toString()).isZero();
    assertThat(ImageIO.read(out.resolve("again").resolve(imageId + ".png").toFile()).getWidth()).isEqualTo(192);
    Result delete = pingvas("images", "delete", imageId);
    assertThat(delete.code).as(delete.toString()).isZero();
    assertThat(pingvas("images", "download", imageId, "--out", out.toString()).code).isEqualTo(Exit.NOT_FOUND);
  }

  @Test
  void aRejectedKeyExitsThreeWithTheServersExplanation() throws Exception {
    Result result = pingvas("jobs", "list", "--api-key", "pv_not_a_real_key");
    assertThat(result.code).isEqualTo(Exit.AUTH);
    assertThat(result.stderr).contains("unauthorized");
    Result json = pingvas("jobs", "list", "--api-key", "pv_not_a_real_key", "--json");
    JsonObject error = json.json().getAsJsonObject().getAsJsonObject("error");
    assertThat(error.get("code").getAsString()).isEqualTo("unauthorized");
    assertThat(error.get("exit_code").getAsInt()).isEqualTo(Exit.AUTH);
    assertThat(pingvas("generate", "x", "--api-key", "pv_not_a_real_key", "--model", "sd-1.5").code)
        .as("the event stream refuses it too").isEqualTo(Exit.AUTH);
  }

  @Test
  void anUnknownJobExitsFour() throws Exception {
    Result result = pingvas("jobs", "show", UUID.randomUUID().toString());
    assertThat(result.code).as(result.toString()).isEqualTo(Exit.NOT_FOUND);
    assertThat(result.stderr).contains("not_found");
    assertThat(pingvas("jobs", "cancel", UUID.randomUUID().toString()).code).isEqualTo(Exit.NOT_FOUND);
  }

  @Test
  void usageErrorsExitTwo() throws Exception {
    assertThat(pingvas("generate").code).as("no prompt").isEqualTo(Exit.USAGE);
    assertThat(pingvas("jobs", "show", "not-a-uuid").code).isEqualTo(Exit.USAGE);
    Result invalid = pingvas("generate", "x", "--model", "sd-1.5", "--width", "100");
    assertThat(invalid.code).as("the API refuses a width that is not a multiple of 8: %s", invalid).isEqualTo(Exit.USAGE);
    assertThat(invalid.stderr).contains("validation_failed");
  }

  @Test
  void anUnreachableServerExitsFive() throws Exception {
    Result result = pingvas("jobs", "list", "--api-url", "http://127.0.0.1:9");
    assertThat(result.code).isEqualTo(Exit.SERVER);
    assertThat(result.stderr).contains("cannot reach");
  }

  @Test
  void operatorCommandsShowWorkersAndTheQueueAndDrainAWorker() throws Exception {
    Result workers = pingvas("workers", "--json");
    assertThat(workers.code).as(workers.toString()).isZero();
    List<String> ids = new ArrayList<>();
    workers.json().getAsJsonObject().getAsJsonArray("workers")
        .forEach(w -> ids.add(w.getAsJsonObject().get("id").getAsString()));
    assertThat(ids).contains("dev-worker-1", "dev-worker-2");
    assertThat(pingvas("workers").stdout).contains("WORKER").contains("dev-worker-1");

    Result queue = pingvas("queue", "--json");
    assertThat(queue.code).as(queue.toString()).isZero();
    assertThat(queue.json().getAsJsonObject().getAsJsonObject("queue").has("queued")).isTrue();

    Result drain = pingvas("workers", "drain", "dev-worker-2", "--json");
    assertThat(drain.code).as(drain.toString()).isZero();
    assertThat(drain.json().getAsJsonObject().get("worker_id").getAsString()).isEqualTo("dev-worker-2");
    assertThat(pingvas("workers", "drain", "no-such-worker").code).isEqualTo(Exit.NOT_FOUND);
  }

  // ---------------------------------------------------------------------------------------------

  record Result(int code, String stdout, String stderr) {
    JsonElement json() {
      return JsonParser.parseString(stdout);
    }
  }

  static Result pingvas(String... args) throws Exception {
    return finish(start(args));
  }

  static Process start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("PINGVAS_"));
    env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
    env.put("HOME", home.toString());
    return builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
  }

  static Result finish(Process process) throws Exception {
    var stdout = new java.io.ByteArrayOutputStream();
    var stderr = new java.io.ByteArrayOutputStream();
    Thread out = new Thread(() -> copy(process.getInputStream(), stdout));
    out.start();
    Thread err = new Thread(() -> copy(process.getErrorStream(), stderr));
    err.start();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("pingvas did not finish in 90 s");
    }
    out.join();
    err.join();
    return new Result(process.exitValue(), stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
  }

  private static void copy(java.io.InputStream in, java.io.OutputStream out) {
    try (in) {
      in.transferTo(out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
