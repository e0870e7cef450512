package ai.pingvas.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs checks/validate.mjs (the pinned kubernetes-models schemas) over a rendering. */
final class SchemaValidator {
  private SchemaValidator() {
  }

  static List<String> validate(Rendered r) {
    Path checks = Repo.k8s().resolve("checks");
    if (!Files.isDirectory(checks.resolve("node_modules/kubernetes-models"))) {
      throw new IllegalStateException("k8s/checks/node_modules is missing: the build runs `npm ci` there"
          + " (exec-maven-plugin); run it by hand when using the IDE");
    }
    try {
      Path dir = Files.createDirectories(Repo.k8s().resolve("target/rendered"));
      Path file = Files.createTempFile(dir, "render-", ".yaml");
      Files.writeString(file, r.yaml());
      Kubectl.Result result = Kubectl.Proc.run(List.of("node", checks.resolve("validate.mjs").toString(),
          file.toString()), checks);
      List<String> problems = new ArrayList<>();
      for (String line : result.stdout().split("\n")) {
        if (line.startsWith("ERROR ")) {
          problems.add(line.substring(6).replace(file.toString(), r.source()));
        }
      }
      if (result.exitCode() != 0 && problems.isEmpty()) {
        problems.add("validate.mjs failed: " + result.stdout() + result.stderr());
      }
      if (result.exitCode() == 0 && !result.stdout().contains(" objects validated, 0 problems")) {
        problems.add("validate.mjs said nothing about " + r.source() + ": " + result.stdout());
      }
      return problems;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
