package ai.pingvas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pingvas generate "prompt"}: submits a job, shows its progress live and saves its images. */
@Command(name = "generate", description = {
    "Submit a generation, watch it live and save its PNGs.",
    "Shows the queue position, then a progress bar fed by the event stream; saves the images to --out as",
    "<job>-<n>.png. Exits 1 if the job fails or is canceled."})
final class GenerateCommand extends ApiCommand {
  @Parameters(index = "0", paramLabel = "PROMPT", description = "What to draw")
  String prompt;

  @Option(names = {"-m", "--model"}, paramLabel = "NAME",
      description = "Checkpoint (default: sd-1.5 if registered, else the first one GET /v1/models lists)")
  String model;

  @Option(names = {"-n", "--count"}, defaultValue = "1", description = "Images to make, 1-8 (default: ${DEFAULT-VALUE})")
  int count;

  @Option(names = {"-W", "--width"}, defaultValue = "512", description = "Width in pixels, multiple of 8 (default: ${DEFAULT-VALUE})")
  int width;

  @Option(names = {"-H", "--height"}, defaultValue = "512", description = "Height in pixels, multiple of 8 (default: ${DEFAULT-VALUE})")
  int height;

  @Option(names = "--steps", description = "Denoising steps, 1-150 (default: the server's, 30)")
  Integer steps;

  @Option(names = "--seed", description = "Seed, for repeatable images (default: random)")
  Long seed;

  @Option(names = "--negative", paramLabel = "TEXT", description = "Negative prompt")
  String negative;

  @Option(names = "--cfg", paramLabel = "SCALE", description = "Guidance scale, 0-30 (default: the server's, 7)")
  Double cfg;

  @Option(names = "--scheduler", description = "Sampler, e.g. euler, euler_a, dpmpp_2m (default: euler)")
  String scheduler;

  @Option(names = "--priority", description = "Order among your own queued jobs, -10..10 (default: 0)")
  Integer priority;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = ".", description = "Where to save the PNGs (default: the current folder)")
  Path out;

  @Option(names = "--no-wait", description = "Submit and print the job without waiting for it")
  boolean noWait;

  @Override
  int run() {
    if (count < 1 || count > 8) {
      throw new CliException(Exit.USAGE, "--count must be between 1 and 8");
    }
    ApiClient api = api();
    JsonObject body = new JsonObject();
    body.addProperty("model", model != null ? model : defaultModel(api));
    body.addProperty("prompt", prompt);
    body.addProperty("width", width);
    body.addProperty("height", height);
    body.addProperty("count", count);
    if (steps != null) {
      body.addProperty("steps", steps);
    }
    if (seed != null) {
      body.addProperty("seed", seed);
    }
    if (negative != null) {
      body.addProperty("negative_prompt", negative);
    }
    if (cfg != null) {
      body.addProperty("cfg_scale", cfg);
    }
    if (scheduler != null) {
      body.addProperty("scheduler", scheduler);
    }
    if (priority != null) {
      body.addProperty("priority", priority);
    }
    if (noWait) {
      JsonObject job = api.post("/v1/generations", body);
      print(job, new JsonArray());
      return Exit.OK;
    }
    prepareOut();
    // The stream is opened before submitting, so not even the first event can be missed.
    ProgressDisplay display = new ProgressDisplay(err(), interactive(), json() && !interactive());
    try (EventStream stream = EventStream.open(api, state -> {
      if (state.equals("reconnecting")) {
        display.note("event stream dropped; reconnecting…");
      }
    })) {
      JsonObject job = api.post("/v1/generations", body);
      JsonObject done = new JobFollower(api, stream, display).follow(job, event -> { });
      String status = Output.string(done, "status");
      if (!"succeeded".equals(status)) {
        JsonObject error = Output.object(done, "error");
        if (json()) {
          print(done, new JsonArray());
        }
        err().println("pingvas: job " + Output.string(done, "id") + " " + status
            + (error.has("code") ? ": " + Output.string(error, "message") + " [" + Output.string(error, "code") + "]" : ""));
        return Exit.JOB_FAILED;
      }
      JsonArray files = save(api, done);
      print(done, files);
      return Exit.OK;
    }
  }

  private String defaultModel(ApiClient api) {
    try {
      JsonArray items = api.get("/v1/models?kind=checkpoint").getAsJsonArray("items");
      String first = null;
      for (JsonElement item : items) {
        String name = Output.string(item.getAsJsonObject(), "name");
        if ("sd-1.5".equals(name)) {
          return name;
        }
        first = first == null ? name : first;
      }
      if (first != null) {
        return first;
      }
    } catch (CliException e) {
      if (e.exitCode() == Exit.AUTH) {
        throw e;
      }
    }
    throw new CliException(Exit.USAGE, "no model list on this server: give --model NAME");
  }

  private void prepareOut() {
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new CliException(Exit.USAGE, "cannot create " + out + ": " + e.getMessage());
    }
  }

  /** Downloads every image of the finished job; gallery-service records them a moment after the job succeeds. */
  private JsonArray save(ApiClient api, JsonObject job) {
    JsonArray files = new JsonArray();
    String prefix = Output.string(job, "id").substring(0, 8);
    int index = 1;
    for (JsonElement element : job.getAsJsonArray("images")) {
      JsonObject image = element.getAsJsonObject();
      String imageId = Output.string(image, "id");
      Path target = out.resolve(prefix + "-" + index++ + ".png");
      ImagesCommand.downloadWhenReady(api, imageId, target);
      JsonObject file = new JsonObject();
      file.addProperty("path", target.toAbsolutePath().toString());
      file.addProperty("image_id", imageId);
      file.add("width", image.get("width"));
      file.add("height", image.get("height"));
      file.add("seed", image.get("seed"));
      files.add(file);
    }
    return files;
  }

  private void print(JsonObject job, JsonArray files) {
    if (json()) {
      JsonObject result = new JsonObject();
      result.add("job", job);
      result.add("files", files);
      Output.json(out(), result);
      return;
    }
    if (files.isEmpty()) {
      out().println("Job " + Output.string(job, "id") + " is " + Output.string(job, "status") + ".");
      return;
    }
    out().println("Saved " + files.size() + (files.size() == 1 ? " image" : " images") + " of job "
        + Output.string(job, "id") + ":");
    for (JsonElement element : files) {
      JsonObject file = element.getAsJsonObject();
      out().println("  " + Output.string(file, "path") + "  (" + Output.string(file, "width") + "x"
          + Output.string(file, "height") + ", seed " + Output.string(file, "seed") + ")");
    }
    out().flush();
  }
}
