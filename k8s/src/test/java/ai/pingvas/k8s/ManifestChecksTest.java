package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Renders every overlay and the infra with kubectl kustomize and runs every check on each: all must pass. */
class ManifestChecksTest {
  private static final Map<String, Rendered> RENDERED = new ConcurrentHashMap<>();

  /** What CI builds: the environments, each Argo CD Application's folder, and the cluster infra. */
  static Map<String, Path> targets() {
    Map<String, Path> targets = new java.util.LinkedHashMap<>();
    for (String env : List.of("dev", "prod", "dev-cpu")) {
      targets.put(env, Repo.overlay(env));
    }
    targets.put("infra", Repo.k8s().resolve("infra"));
    return targets;
  }

  static Rendered rendered(String name) {
    return RENDERED.computeIfAbsent(name, n -> Rendered.of(targets().get(n), Repo.TAG_SCHEMES.containsKey(n) ? n : null));
  }

  @TestFactory
  Stream<DynamicNode> everyCheckPassesOnEveryRendering() {
    return targets().keySet().stream().map(name -> DynamicContainer.dynamicContainer(name,
        Checks.ALL.entrySet().stream().map(check -> DynamicTest.dynamicTest(check.getKey(), () -> {
          List<String> violations = check.getValue().apply(rendered(name));
          assertThat(violations).as("%s violations in %s", check.getKey(), name).isEmpty();
        }))));
  }

  @TestFactory
  Stream<DynamicTest> everyApplicationFolderRendersOnItsOwn() throws Exception {
    List<Path> folders = new ArrayList<>();
    for (String env : List.of("dev", "prod")) {
      try (Stream<Path> dirs = Files.list(Repo.overlay(env))) {
        dirs.filter(d -> Files.exists(d.resolve("kustomization.yaml")) && !d.endsWith("env")).sorted().forEach(folders::add);
      }
    }
    folders.add(Repo.k8s().resolve("infra/argo-cd"));
    folders.add(Repo.k8s().resolve("infra/cluster"));
    return folders.stream().map(dir -> DynamicTest.dynamicTest(Repo.k8s().relativize(dir).toString(), () -> {
      Kubectl.Result result = Kubectl.kustomize(dir);
      assertThat(result.exitCode()).as(result.stderr()).isZero();
      assertThat(Rendered.parse(dir.toString(), null, result.stdout()).objects()).isNotEmpty();
    }));
  }

  @TestFactory
  Stream<DynamicTest> theRootApplicationIsValid() {
    Rendered root = Rendered.parse("infra/argo-cd/application-root.yaml", null,
        Repo.read(Repo.k8s().resolve("infra/argo-cd/application-root.yaml")));
    List<Function<Rendered, List<String>>> checks = List.of(SchemaValidator::validate, ArgoCd::check);
    return checks.stream().map(check -> DynamicTest.dynamicTest(check.toString(),
        () -> assertThat(check.apply(root)).isEmpty()));
  }

  @org.junit.jupiter.api.Test
  void everyServiceHasAWorkloadInEveryEnvironment() {
    for (String env : List.of("dev", "prod")) {
      Rendered r = rendered(env);
      for (String service : Repo.SERVICES) {
        Obj workload = service.equals("worker") ? r.find("Deployment", service) : r.find("Rollout", service);
        assertThat(workload).as("%s in %s", service, env).isNotNull();
        assertThat(r.find("ServiceAccount", service)).as("ServiceAccount %s in %s", service, env).isNotNull();
        assertThat(r.find("ServiceMonitor", service)).isNotNull();
        assertThat(r.find("PodDisruptionBudget", service)).isNotNull();
        assertThat(r.find("NetworkPolicy", service)).isNotNull();
        assertThat(r.find("ExternalSecret", service + "-secrets")).isNotNull();
      }
    }
  }
}
