package ai.pingvas.k8s;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** The objects one kustomization renders to, plus what is known about the environment it targets. */
record Rendered(String source, String env, String yaml, List<Obj> objects) {

  @SuppressWarnings("unchecked")
  static Rendered parse(String source, String env, String yaml) {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(64 * 1024 * 1024);
    List<Obj> objects = new ArrayList<>();
    for (Object doc : new Yaml(options).loadAll(yaml)) {
      if (doc instanceof Map<?, ?> map) {
        objects.add(new Obj((Map<String, Object>) map));
      }
    }
    return new Rendered(source, env, yaml, List.copyOf(objects));
  }

  /** Renders a kustomization directory with kubectl; fails if kustomize does. */
  static Rendered of(Path dir, String env) {
    Kubectl.Result result = Kubectl.kustomize(dir);
    if (result.exitCode() != 0) {
      throw new IllegalStateException("kubectl kustomize " + dir + " failed: " + result.stderr());
    }
    return parse(dir.toString(), env, result.stdout());
  }

  List<Obj> ofKind(String... kinds) {
    List<String> wanted = List.of(kinds);
    return objects.stream().filter(o -> o.kind() != null && wanted.contains(o.kind())).toList();
  }

  Obj find(String kind, String name) {
    return objects.stream().filter(o -> kind.equals(o.kind()) && Objects.equals(name, o.name())).findFirst()
        .orElse(null);
  }

  List<Obj> where(Predicate<Obj> predicate) {
    return objects.stream().filter(predicate).toList();
  }
}
