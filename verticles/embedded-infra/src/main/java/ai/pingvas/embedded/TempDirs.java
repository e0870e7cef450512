package ai.pingvas.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories of embedded infrastructure (database, broker and object-store data). */
public final class TempDirs {
  private TempDirs() {
  }

  /** Deletes {@code dir} and everything in it, best effort: what cannot be deleted stays. */
  public static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: it is a temp directory
    }
  }
}
