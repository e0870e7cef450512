package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.yaml.snakeyaml.Yaml;

/**
 * Each folder under checks/fixtures/ is a deliberately broken manifest with an expect.yaml naming the
 * check it must fail and a piece of the message: proof that every check can fail.
 */
class FixturesTest {
  @TestFactory
  Stream<DynamicTest> everyBrokenFixtureFailsItsCheck() throws Exception {
    Path fixtures = Repo.k8s().resolve("checks/fixtures");
    List<Path> dirs;
    try (Stream<Path> list = Files.list(fixtures)) {
      dirs = list.filter(d -> Files.exists(d.resolve("expect.yaml"))).sorted().toList();
    }
    assertThat(dirs).hasSizeGreaterThanOrEqualTo(15);
    return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
      Map<String, Object> expect = new Yaml().load(Repo.read(dir.resolve("expect.yaml")));
      String check = expect.get("check").toString();
      String message = expect.get("message").toString();
      Kubectl.Result result = Kubectl.kustomize(dir);
      if (check.equals("render")) {
        assertThat(result.exitCode()).as("kustomize must refuse %s", dir).isNotZero();
        assertThat(result.stderr()).contains(message);
        return;
      }
      assertThat(result.exitCode()).as(result.stderr()).isZero();
      Object env = expect.get("env");
      Rendered rendered = Rendered.parse(dir.toString(), env == null ? null : env.toString(), result.stdout());
      assertThat(Checks.ALL).containsKey(check);
      List<String> violations = Checks.ALL.get(check).apply(rendered);
      assertThat(violations).as("check %s on %s", check, dir.getFileName()).anyMatch(v -> v.contains(message));
    }));
  }
}
