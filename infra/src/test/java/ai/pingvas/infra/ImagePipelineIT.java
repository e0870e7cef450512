package ai.pingvas.infra;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.infra.Reactor.Module;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * One image per Jib module, wired the same way everywhere: a workflow named after it calling the reusable Maven
 * workflow, a place in the release matrix, a main class; and the worker's base tag matching its Dockerfile.
 */
class ImagePipelineIT {
  private static final Reactor REACTOR = Reactor.load(Repo.ROOT);
  private static final Path WORKFLOWS = Repo.ROOT.resolve(".github/workflows");
  private static final String REUSABLE = "./.github/workflows/maven-module.yml";

  @Test
  void everyImageModuleHasItsWorkflow() {
    assertThat(REACTOR.imageModules()).extracting(Module::artifactId)
        .contains("generation-service", "worker");
    for (Module m : REACTOR.imageModules()) {
      Path workflow = WORKFLOWS.resolve(m.artifactId() + ".yml");
      assertThat(workflow).as("workflow of " + m.path()).exists();
      assertThat(modulesBuiltBy(workflow)).as(Repo.relative(workflow) + " builds").containsExactly(m.path());
    }
  }

  @Test
  void workflowsBuildOnlyImageModules() throws Exception {
    List<String> imagePaths = REACTOR.imageModules().stream().map(Module::path).toList();
    try (var files = Files.list(WORKFLOWS)) {
      for (Path w : files.filter(f -> f.toString().endsWith(".yml")).toList()) {
        assertThat(modulesBuiltBy(w)).as(Repo.relative(w)).allSatisfy(p -> assertThat(imagePaths).contains(p));
      }
    }
  }

  @Test
  void releaseBuildsEveryImageModule() {
    Map<String, Object> release = yaml(WORKFLOWS.resolve("release.yml"));
    Map<String, Object> images = SkaffoldCheck.map(SkaffoldCheck.map(release.get("jobs")).get("images"));
    List<Object> matrix = SkaffoldCheck.list(
        SkaffoldCheck.map(SkaffoldCheck.map(images.get("strategy")).get("matrix")).get("module"));
    assertThat(images.get("uses")).isEqualTo(REUSABLE);
    assertThat(matrix).containsExactlyInAnyOrderElementsOf(REACTOR.imageModules().stream().map(Module::path).toList());
  }

  @Test
  void jarImageModulesDeclareTheirMainClass() {
    for (Module m : REACTOR.imageModules()) {
      if (m.packaging().equals("jar")) {
        assertThat(m.properties()).as(m.path() + " properties").containsKey("main.class");
      }
    }
  }

  @Test
  void workerBaseTagMatchesItsDockerfile() {
    Module worker = REACTOR.byArtifactId("worker").orElseThrow();
    assertThat(worker.properties().get("container.base.image"))
        .isEqualTo(expectedWorkerBase(Repo.read(Repo.ROOT.resolve("worker/image/Dockerfile"))));
  }

  @Test
  void workerBaseMismatchIsCaught() {
    Module worker = REACTOR.byArtifactId("worker").orElseThrow();
    String broken = expectedWorkerBase(Repo.read(Repo.FIXTURES.resolve("worker-image/Dockerfile")));
    assertThat(broken).isEqualTo("ghcr.io/pingvas/worker-base:invokeai-6.0.0-cuda12.8.1")
        .isNotEqualTo(worker.properties().get("container.base.image"));
  }

  /** ghcr.io/pingvas/worker-base:invokeai-<INVOKEAI_VERSION>-cuda<CUDA tag version>, as worker.yml pushes it. */
  static String expectedWorkerBase(String dockerfile) {
    Matcher invokeai = Pattern.compile("(?m)^ARG INVOKEAI_VERSION=(\\S+)").matcher(dockerfile);
    Matcher cuda = Pattern.compile("(?m)^FROM nvidia/cuda:(\\d+\\.\\d+\\.\\d+)-").matcher(dockerfile);
    assertThat(invokeai.find()).as("ARG INVOKEAI_VERSION in the Dockerfile").isTrue();
    assertThat(cuda.find()).as("FROM nvidia/cuda:<version>-... in the Dockerfile").isTrue();
    return "ghcr.io/pingvas/worker-base:invokeai-" + invokeai.group(1) + "-cuda" + cuda.group(1);
  }

  /** The module inputs a workflow passes to the reusable Maven workflow (literal ones; matrix entries excluded). */
  private static List<String> modulesBuiltBy(Path workflow) {
    List<String> modules = new ArrayList<>();
    for (Object job : SkaffoldCheck.map(yaml(workflow).get("jobs")).values()) {
      Map<String, Object> j = SkaffoldCheck.map(job);
      Object module = SkaffoldCheck.map(j.get("with")).get("module");
      if (REUSABLE.equals(j.get("uses")) && module instanceof String s && !s.contains("${{")) {
        modules.add(s);
      }
    }
    return modules;
  }

  private static Map<String, Object> yaml(Path file) {
    return new Yaml(new SafeConstructor(new LoaderOptions())).load(Repo.read(file));
  }
}
