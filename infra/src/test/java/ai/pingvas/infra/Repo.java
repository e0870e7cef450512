package ai.pingvas.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/** The repository the checks run on, and the files in it that they cover. */
final class Repo {
  /** Build output, installed tools and the deliberately broken fixtures are never "the repo's" files. */
  private static final Set<String> SKIPPED_DIRS = Set.of(".git", "target", "node_modules", ".terraform", ".idea");

  static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  static final Path CHECKS = ROOT.resolve("infra/checks");
  static final Path FIXTURES = CHECKS.resolve("fixtures");

  private Repo() {
  }

  /** Every file under {@code dir} (relative to the root) that {@code accept} takes, fixtures excluded. */
  static List<Path> files(String dir, Predicate<Path> accept) {
    Path start = ROOT.resolve(dir).normalize();
    List<Path> found = new ArrayList<>();
    if (!Files.isDirectory(start)) {
      return found;
    }
    try {
      Files.walkFileTree(start, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
          boolean skip = SKIPPED_DIRS.contains(d.getFileName().toString()) || d.equals(FIXTURES);
          return skip && !d.equals(start) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
          if (attrs.isRegularFile() && accept.test(f)) {
            found.add(f);
          }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    found.sort(null);
    return found;
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first line of a file, read as bytes so that binary files do no harm. */
  static String firstLine(Path file) {
    try (var in = Files.newInputStream(file)) {
      String head = new String(in.readNBytes(200), java.nio.charset.StandardCharsets.ISO_8859_1);
      int end = head.indexOf('\n');
      return end < 0 ? head : head.substring(0, end);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String relative(Path file) {
    return ROOT.relativize(file.toAbsolutePath().normalize()).toString();
  }
}
