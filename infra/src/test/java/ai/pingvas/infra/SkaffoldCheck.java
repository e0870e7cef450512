package ai.pingvas.infra;

import ai.pingvas.infra.Reactor.Module;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * skaffold.yaml against its schema (the vendored v4beta13 JSON Schema) and against the repository: every artifact
 * is a Jib-enabled Maven module named like its image, every Jib module is built, every manifest path resolves and
 * Argo Rollouts are in the resource selector.
 */
final class SkaffoldCheck {
  static final String API_VERSION = "skaffold/v4beta13";
  static final String REGISTRY = "ghcr.io/pingvas/";
  static final Path SCHEMA = Repo.CHECKS.resolve("schemas/skaffold-v4beta13.json");

  private SkaffoldCheck() {
  }

  static List<String> problems(Path skaffold, Reactor reactor) {
    List<String> problems = new ArrayList<>();
    Command schema = Command.node("schema", List.of(SCHEMA.toString(), skaffold.toString()));
    if (schema.exit() != 0) {
      schema.output().lines().filter(l -> !l.isBlank()).forEach(l -> problems.add("schema: " + l));
    }
    Map<String, Object> config = new Yaml(new SafeConstructor(new LoaderOptions())).load(Repo.read(skaffold));
    if (!API_VERSION.equals(config.get("apiVersion"))) {
      problems.add("apiVersion " + config.get("apiVersion") + " is not " + API_VERSION + ", the schema vendored in "
          + Repo.relative(SCHEMA));
    }
    List<Map<String, Object>> pipelines = new ArrayList<>(List.of(config));
    list(config.get("profiles")).forEach(p -> pipelines.add(map(p)));

    Set<String> built = new LinkedHashSet<>();
    for (Map<String, Object> pipeline : pipelines) {
      for (Object a : list(map(pipeline.get("build")).get("artifacts"))) {
        artifact(map(a), reactor, problems).ifPresent(m -> built.add(m.artifactId()));
      }
      for (Object p : list(map(map(pipeline.get("manifests")).get("kustomize")).get("paths"))) {
        Path dir = Repo.ROOT.resolve(String.valueOf(p));
        boolean kustomization = List.of("kustomization.yaml", "kustomization.yml", "Kustomization").stream()
            .anyMatch(k -> Files.isRegularFile(dir.resolve(k)));
        if (!kustomization) {
          problems.add("manifest path " + p + " does not resolve to a Kustomization (" + dir + ")");
        }
      }
    }
    for (Module m : reactor.imageModules()) {
      if (!built.contains(m.artifactId())) {
        problems.add("module " + m.path() + " has Jib enabled but skaffold does not build it");
      }
    }
    boolean rollouts = list(map(config.get("resourceSelector")).get("allow")).stream().map(SkaffoldCheck::map)
        .anyMatch(f -> "Rollout.argoproj.io".equals(f.get("groupKind")) && list(f.get("image")).contains(".*"));
    if (!rollouts) {
      problems.add("resourceSelector.allow must let skaffold rewrite images of Rollout.argoproj.io (image: [.*])");
    }
    return problems;
  }

  private static Optional<Module> artifact(Map<String, Object> a, Reactor reactor, List<String> problems) {
    Object image = a.get("image");
    if (!a.containsKey("jib")) {
      problems.add("artifact " + image + " is not built with Jib");
      return Optional.empty();
    }
    String project = String.valueOf(map(a.get("jib")).get("project"));
    Optional<Module> module = project.startsWith(":")
        ? reactor.byArtifactId(project.substring(1)) : reactor.byPath(project);
    if (module.isEmpty()) {
      problems.add("artifact " + image + ": jib.project " + project + " is not a module of the root pom.xml");
      return module;
    }
    if (!module.get().jibEnabled()) {
      problems.add("artifact " + image + ": module " + module.get().path() + " skips Jib (set jib.skip=false)");
    }
    if (!(REGISTRY + module.get().artifactId()).equals(image)) {
      problems.add("artifact " + image + ": the image of module " + module.get().artifactId() + " is "
          + REGISTRY + module.get().artifactId());
    }
    return module;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  static List<Object> list(Object o) {
    return o instanceof List<?> l ? List.copyOf(l) : List.of();
  }
}
