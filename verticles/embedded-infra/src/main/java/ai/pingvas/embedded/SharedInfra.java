package ai.pingvas.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Postgres, Kafka and S3 per test JVM, started on first use and shared by every test class;
 * each class takes its own database (and topic names), so classes do not see each other's data.
 * Stopped and deleted when the JVM exits.
 */
public final class SharedInfra {
  public static final String BUCKET = "pingvas-images";
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static volatile LocalInfra infra;
  private static Path dir;

  private SharedInfra() {
  }

  public static synchronized LocalInfra get() {
    if (infra == null) {
      try {
        dir = Files.createTempDirectory("pingvas-test-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      infra = LocalInfra.start(new LocalInfra.Options(dir, 0, 0, 0, false, true, true, true,
          List.of(BUCKET, "pingvas-models")));
      Runtime.getRuntime().addShutdownHook(new Thread(SharedInfra::shutdown, "shared-infra-stop"));
    }
    return infra;
  }

  /** A fresh, empty database for one test class; returns its postgresql:// URL. */
  public static String newDatabase(String prefix) {
    return newDatabase(prefix, null);
  }

  /** A new database whose {@code LC_CTYPE} is {@code ctype} (see {@link PostgresServer#createDatabase(String, String)}). */
  public static String newDatabase(String prefix, String ctype) {
    String name = (prefix + "_" + DATABASES.incrementAndGet()).toLowerCase().replaceAll("[^a-z0-9_]", "_");
    return get().postgres().createDatabase(name, ctype);
  }

  private static void shutdown() {
    if (infra != null) {
      infra.close();
    }
    if (dir != null) {
      TempDirs.deleteTree(dir);
    }
  }
}
