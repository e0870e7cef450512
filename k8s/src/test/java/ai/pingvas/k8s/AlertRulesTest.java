package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The router alerts fire when they should and stay quiet when they should not: promtool's rule unit
 * tests (k8s/checks/rule-tests) run against the PrometheusRule as Kustomize renders it.
 */
class AlertRulesTest {

  @Test
  void routerAlertsPassTheirPromtoolUnitTests() throws Exception {
    Path promtool = Kubectl.Proc.onPath("promtool").orElseThrow(() -> new AssertionError(
        "promtool is needed for the alert unit tests: apt-get install prometheus (.ci/run installs it)"));
    Obj rule = ManifestChecksTest.rendered("infra").ofKind("PrometheusRule").stream()
        .filter(o -> o.name().equals("pingvas-router")).findFirst()
        .orElseThrow(() -> new AssertionError("no PrometheusRule pingvas-router in the infra rendering"));
    Path dir = Files.createDirectories(Repo.k8s().resolve("target/rule-tests"));
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Files.writeString(dir.resolve("pingvas-router.yaml"),
        new Yaml(options).dump(Map.of("groups", Obj.list(rule.tree(), "spec", "groups"))));
    List<String> command = new ArrayList<>(List.of(promtool.toString(), "test", "rules"));
    try (Stream<Path> tests = Files.list(Repo.k8s().resolve("checks/rule-tests"))) {
      for (Path test : tests.filter(p -> p.toString().endsWith(".test.yaml")).sorted().toList()) {
        Path copy = dir.resolve(test.getFileName());
        Files.copy(test, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        command.add(copy.toString());
      }
    }
    assertThat(command).as("rule test files").hasSizeGreaterThan(3);
    Kubectl.Result result = Kubectl.Proc.run(command, dir);
    assertThat(result.exitCode()).as("promtool test rules:%n%s%s", result.stdout(), result.stderr()).isZero();
    assertThat(result.stdout()).contains("SUCCESS");
  }
}
