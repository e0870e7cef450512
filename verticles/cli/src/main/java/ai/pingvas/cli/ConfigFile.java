package ai.pingvas.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The saved login: {@code $PINGVAS_CONFIG}, else {@code $XDG_CONFIG_HOME/pingvas/config.json}, else
 * {@code ~/.config/pingvas/config.json}. It holds a credential, so it is written owner-only (0600,
 * in a 0700 folder) and replaced atomically.
 */
public final class ConfigFile {
  private final Path path;

  ConfigFile(Path path) {
    this.path = path;
  }

  /** The file the environment points at. */
  static ConfigFile locate(Map<String, String> env) {
    String explicit = env.get("PINGVAS_CONFIG");
    if (explicit != null && !explicit.isBlank()) {
      return new ConfigFile(Path.of(explicit));
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return new ConfigFile(base.resolve("pingvas").resolve("config.json"));
  }

  public Path path() {
    return path;
  }

  /** The saved settings, or an empty object when there are none. */
  public JsonObject load() {
    if (!Files.exists(path)) {
      return new JsonObject();
    }
    try {
      return JsonParser.parseString(Files.readString(path, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new CliException(Exit.USAGE, "cannot read " + path + ": " + e.getMessage() + " (run pingvas login again)");
    }
  }

  public void save(JsonObject settings) {
    try {
      Path dir = path.toAbsolutePath().getParent();
      boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
      if (!Files.exists(dir)) {
        if (posix) {
          Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectories(dir);
        }
      }
      // Created owner-only from the start, so the credential is never readable by others, even briefly.
      Path temp = posix
          ? Files.createTempFile(dir, ".config", ".tmp", PosixFilePermissions.asFileAttribute(
              PosixFilePermissions.fromString("rw-------")))
          : Files.createTempFile(dir, ".config", ".tmp");
      Files.writeString(temp, Output.PRETTY.toJson(settings) + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new CliException(Exit.USAGE, "cannot write " + path + ": " + e.getMessage());
    }
  }

  public boolean delete() {
    try {
      return Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new CliException(Exit.USAGE, "cannot delete " + path + ": " + e.getMessage());
    }
  }
}
