package ai.pingvas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pingvas images list|download|delete}. */
@Command(name = "images", description = "Your gallery: list, download and delete images.",
    subcommands = {ImagesCommand.ListImages.class, ImagesCommand.Download.class, ImagesCommand.Delete.class})
final class ImagesCommand implements Runnable {
  /** How long a just-finished job's image may take to reach the gallery. */
  private static final long INGEST_WAIT_MS = 15_000;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "say which: list, download or delete");
  }

  static String imageId(String id) {
    try {
      return UUID.fromString(id).toString();
    } catch (IllegalArgumentException e) {
      throw new CliException(Exit.USAGE, "'" + id + "' is not an image id (a UUID)");
    }
  }

  /** Downloads an image, waiting briefly for gallery-service to record one that was just made. */
  static void downloadWhenReady(ApiClient api, String imageId, Path target) {
    long deadline = System.currentTimeMillis() + INGEST_WAIT_MS;
    long pause = 200;
    while (true) {
      try {
        api.download(imageId, target);
        return;
      } catch (CliException e) {
        if (e.exitCode() != Exit.NOT_FOUND || System.currentTimeMillis() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException(Exit.SERVER, "interrupted");
      }
      pause = Math.min(2000, pause * 2);
    }
  }

  @Command(name = "list", description = "List your images, newest first.")
  static final class ListImages extends ApiCommand {
    @Option(names = "--limit", defaultValue = "20", description = "At most this many, 1-100 (default: ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--cursor", description = "The next_cursor of a previous page")
    String cursor;

    @Override
    int run() {
      String path = "/v1/images?limit=" + limit
          + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
      JsonObject page = api().get(path);
      if (json()) {
        Output.json(out(), page);
        return Exit.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (JsonElement element : page.getAsJsonArray("items")) {
        JsonObject image = element.getAsJsonObject();
        rows.add(List.of(Output.string(image, "id"), Output.string(image, "model"),
            Output.string(image, "width") + "x" + Output.string(image, "height"), Output.string(image, "seed"),
            Output.string(image, "created_at"), Output.truncate(Output.string(image, "prompt"), 50)));
      }
      Output.table(out(), List.of("ID", "MODEL", "SIZE", "SEED", "CREATED", "PROMPT"), rows);
      String next = Output.string(page, "next_cursor");
      if (next != null) {
        out().println("More: pingvas images list --cursor " + next);
      }
      return Exit.OK;
    }
  }

  @Command(name = "download", description = "Save images as <id>.png in --out.")
  static final class Download extends ApiCommand {
    @Parameters(paramLabel = "IMAGE_ID", arity = "1..*")
    List<String> ids;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = ".", description = "Folder (default: the current one)")
    Path out;

    @Override
    int run() {
      try {
        Files.createDirectories(out);
      } catch (IOException e) {
        throw new CliException(Exit.USAGE, "cannot create " + out + ": " + e.getMessage());
      }
      JsonArray files = new JsonArray();
      for (String raw : ids) {
        String id = imageId(raw);
        Path target = out.resolve(id + ".png");
        api().download(id, target);
        JsonObject file = new JsonObject();
        file.addProperty("image_id", id);
        file.addProperty("path", target.toAbsolutePath().toString());
        files.add(file);
        if (!json()) {
          out().println("Saved " + target);
        }
      }
      if (json()) {
        JsonObject result = new JsonObject();
        result.add("files", files);
        Output.json(out(), result);
      }
      return Exit.OK;
    }
  }

  @Command(name = "delete", description = "Delete images (the PNG, its thumbnail and its record).")
  static final class Delete extends ApiCommand {
    @Parameters(paramLabel = "IMAGE_ID", arity = "1..*")
    List<String> ids;

    @Override
    int run() {
      JsonArray deleted = new JsonArray();
      for (String raw : ids) {
        String id = imageId(raw);
        api().delete("/v1/images/" + id);
        deleted.add(id);
        if (!json()) {
          out().println("Deleted " + id);
        }
      }
      if (json()) {
        JsonObject result = new JsonObject();
        result.add("deleted", deleted);
        Output.json(out(), result);
      }
      return Exit.OK;
    }
  }
}
