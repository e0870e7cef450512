package ai.pingvas.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.Yaml;

/**
 * Argo CD objects agree with the repository: automated sync with prune and selfHeal, the agreed retry
 * backoff, generated paths and values files that exist, notification triggers and templates that are
 * defined, and waves that put the platform before the services.
 */
final class ArgoCd {
  private static final Pattern VAR = Pattern.compile("\\{\\{\\s*\\.([a-zA-Z]+)\\s*}}");

  private ArgoCd() {
  }

  static List<String> check(Rendered r) {
    List<String> v = new ArrayList<>();
    Map<String, Object> values = new Yaml().load(Repo.read(Repo.k8s().resolve("infra/argo-cd/values.yaml")));
    Map<String, Object> notifications = Obj.map(values, "notifications");
    for (Obj app : r.ofKind("Application")) {
      application(app.id(), app.tree().get("spec"), app.tree().get("metadata"), notifications, v, true);
      project(r, app.id(), Obj.str(app.tree(), "spec", "project"), v);
    }
    for (Obj set : r.ofKind("ApplicationSet")) {
      Object template = set.get("spec", "template");
      List<Map<String, String>> elements = elements(Obj.at(set.tree(), "spec", "generators", 0));
      if (elements.isEmpty()) {
        v.add(set.id() + ": generates no Application");
      }
      Set<String> names = new LinkedHashSet<>();
      for (Map<String, String> element : elements) {
        Object spec = substitute(Obj.at(template, "spec"), element, set.id(), v);
        Object metadata = substitute(Obj.at(template, "metadata"), element, set.id(), v);
        String name = Obj.str(metadata, "name");
        if (!names.add(name)) {
          v.add(set.id() + ": generates " + name + " twice");
        }
        application(set.id() + " -> " + name, spec, metadata, notifications, v, false);
        project(r, set.id(), Obj.str(spec, "project"), v);
      }
      if (set.name().equals("services")) {
        orphans(set, names, elements, v);
      }
    }
    waves(r, v);
    return v;
  }

  private static void application(String where, Object spec, Object metadata, Map<String, Object> notifications,
      List<String> v, boolean selfManagedMayKeep) {
    Object automated = Obj.at(spec, "syncPolicy", "automated");
    if (!Boolean.TRUE.equals(Obj.at(automated, "selfHeal"))) {
      v.add(where + ": automated sync without selfHeal");
    }
    boolean keepsArgoCd = selfManagedMayKeep && "argo-cd".equals(Obj.str(metadata, "name"));
    if (!keepsArgoCd && !Boolean.TRUE.equals(Obj.at(automated, "prune"))) {
      v.add(where + ": automated sync without prune");
    }
    Object retry = Obj.at(spec, "syncPolicy", "retry");
    if (!"5".equals(Obj.str(retry, "limit")) || !"5s".equals(Obj.str(retry, "backoff", "duration"))
        || !"2".equals(Obj.str(retry, "backoff", "factor")) || !"3m".equals(Obj.str(retry, "backoff", "maxDuration"))) {
      v.add(where + ": retry must be limit 5, backoff 5s x2 up to 3m, is " + retry);
    }
    List<Object> sources = new ArrayList<>(Obj.list(spec, "sources"));
    if (Obj.at(spec, "source") != null) {
      sources.add(Obj.at(spec, "source"));
    }
    for (Object source : sources) {
      String path = Obj.str(source, "path");
      if (path != null && Obj.str(source, "repoURL").contains("pingvas-studio")
          && !Files.exists(Repo.root().resolve(path).resolve("kustomization.yaml"))) {
        v.add(where + ": path " + path + " has no kustomization.yaml");
      }
      for (Object file : Obj.list(source, "helm", "valueFiles")) {
        String f = file.toString().replace("$values/", "");
        if (!Files.isRegularFile(Repo.root().resolve(f))) {
          v.add(where + ": values file " + f + " does not exist");
        }
      }
      if (Obj.str(source, "chart") != null && !Obj.str(source, "targetRevision").matches("\\d+\\.\\d+\\.\\d+")) {
        v.add(where + ": chart " + Obj.str(source, "chart") + " is not pinned to a version");
      }
    }
    Map<String, Object> triggers = Obj.map(notifications, "triggers");
    Map<String, Object> templates = Obj.map(notifications, "templates");
    Obj.map(metadata, "annotations").forEach((key, value) -> {
      Matcher m = Pattern.compile("notifications\\.argoproj\\.io/subscribe\\.([a-z-]+)\\.slack").matcher(key);
      if (!m.matches()) {
        return;
      }
      Object trigger = triggers.get("trigger." + m.group(1));
      if (trigger == null) {
        v.add(where + ": subscribes to undefined trigger " + m.group(1));
        return;
      }
      for (Object condition : (List<?>) new Yaml().load(trigger.toString())) {
        for (Object template : Obj.list(condition, "send")) {
          if (!templates.containsKey("template." + template)) {
            v.add(where + ": trigger " + m.group(1) + " sends undefined template " + template);
          }
        }
      }
    });
  }

  private static void project(Rendered r, String where, String project, List<String> v) {
    if (project != null && !project.equals("default") && r.find("AppProject", project) == null) {
      v.add(where + ": project " + project + " does not exist");
    }
  }

  /** Every env/service folder under overlays/ is deployed by the services ApplicationSet. */
  private static void orphans(Obj set, Set<String> names, List<Map<String, String>> elements, List<String> v) {
    Set<String> envs = new LinkedHashSet<>();
    elements.forEach(e -> envs.add(e.get("env")));
    for (String env : envs) {
      try (Stream<Path> dirs = Files.list(Repo.overlay(env))) {
        dirs.filter(d -> Files.exists(d.resolve("kustomization.yaml")) && !d.getFileName().toString().equals("env"))
            .map(d -> d.getFileName() + "-" + env)
            .filter(name -> !names.contains(name))
            .forEach(name -> v.add(set.id() + ": overlays folder for " + name + " is deployed by no Application"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static void waves(Rendered r, List<String> v) {
    Obj addons = r.find("ApplicationSet", "addons");
    Obj config = r.find("ApplicationSet", "cluster-config");
    Obj services = r.find("ApplicationSet", "services");
    if (addons == null || config == null || services == null) {
      return;
    }
    if (!(Checks.wave(addons) < Checks.wave(config) && Checks.wave(config) < Checks.wave(services))) {
      v.add("sync waves must order addons < cluster-config < services, are " + Checks.wave(addons) + ", "
          + Checks.wave(config) + ", " + Checks.wave(services));
    }
  }

  /** Elements of a list generator, or the product of a matrix of list generators. */
  static List<Map<String, String>> elements(Object generator) {
    if (Obj.at(generator, "list") != null) {
      List<Map<String, String>> out = new ArrayList<>();
      for (Object e : Obj.list(generator, "list", "elements")) {
        Map<String, String> m = new HashMap<>();
        Obj.map(e).forEach((k, val) -> m.put(k, String.valueOf(val)));
        out.add(m);
      }
      return out;
    }
    List<Map<String, String>> product = List.of(Map.of());
    for (Object g : Obj.list(generator, "matrix", "generators")) {
      List<Map<String, String>> next = new ArrayList<>();
      for (Map<String, String> left : product) {
        for (Map<String, String> right : elements(g)) {
          Map<String, String> m = new HashMap<>(left);
          m.putAll(right);
          next.add(m);
        }
      }
      product = next;
    }
    return Obj.at(generator, "matrix") == null ? List.of() : product;
  }

  private static Object substitute(Object node, Map<String, String> element, String where, List<String> v) {
    Yaml yaml = new Yaml();
    String text = yaml.dump(node);
    Matcher m = VAR.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = element.get(m.group(1));
      if (value == null) {
        v.add(where + ": template uses {{." + m.group(1) + "}}, which no generator element sets");
        value = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return yaml.load(out.toString());
  }
}
