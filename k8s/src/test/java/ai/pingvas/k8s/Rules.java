package ai.pingvas.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * PrometheusRules are well formed: checked structurally here (so the check never silently passes), and
 * by `promtool check rules` wherever promtool is installed.
 */
final class Rules {
  private static final Set<String> SEVERITIES = Set.of("info", "warning", "critical");

  private Rules() {
  }

  static List<String> check(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Obj pr : r.ofKind("PrometheusRule")) {
      structure(pr, v);
      promtool(pr, v);
    }
    return v;
  }

  private static void structure(Obj pr, List<String> v) {
    Set<String> groups = new HashSet<>();
    Set<String> alerts = new HashSet<>();
    List<Object> groupList = Obj.list(pr.tree(), "spec", "groups");
    if (groupList.isEmpty()) {
      v.add(pr.id() + ": no rule groups");
    }
    for (Object group : groupList) {
      String gname = Obj.str(group, "name");
      if (gname == null || !groups.add(gname)) {
        v.add(pr.id() + ": group name " + gname + " missing or repeated");
      }
      for (Object rule : Obj.list(group, "rules")) {
        String alert = Obj.str(rule, "alert");
        String record = Obj.str(rule, "record");
        String where = pr.id() + " rule " + (alert != null ? alert : record);
        if ((alert == null) == (record == null)) {
          v.add(where + ": needs exactly one of alert or record");
        }
        String expr = Obj.str(rule, "expr");
        if (expr == null || expr.isBlank()) {
          v.add(where + ": no expr");
        } else {
          try {
            if (PromQl.selectors(expr).isEmpty()) {
              v.add(where + ": expr reads no metric");
            }
          } catch (IllegalArgumentException e) {
            v.add(where + ": " + e.getMessage());
          }
        }
        String forDuration = Obj.str(rule, "for");
        if (forDuration != null && !forDuration.matches("(\\d+(ms|s|m|h|d|w|y))+")) {
          v.add(where + ": 'for: " + forDuration + "' is not a Prometheus duration");
        }
        if (alert != null) {
          if (!alerts.add(alert)) {
            v.add(where + ": alert name repeated");
          }
          String severity = Obj.str(rule, "labels", "severity");
          if (severity == null || !SEVERITIES.contains(severity)) {
            v.add(where + ": severity must be one of " + SEVERITIES);
          }
          if (Obj.str(rule, "annotations", "summary") == null) {
            v.add(where + ": no summary annotation");
          }
        }
      }
    }
  }

  private static void promtool(Obj pr, List<String> v) {
    var promtool = Kubectl.Proc.onPath("promtool");
    if (promtool.isEmpty()) {
      System.out.println("[k8s checks] promtool is not installed: " + pr.id()
          + " was checked structurally only (apt-get install prometheus adds it)");
      return;
    }
    try {
      Path dir = Files.createDirectories(Repo.k8s().resolve("target/rules"));
      Path file = dir.resolve(pr.name() + "-" + System.nanoTime() + ".yaml");
      DumperOptions options = new DumperOptions();
      options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
      Files.writeString(file, new Yaml(options).dump(Map.of("groups", Obj.list(pr.tree(), "spec", "groups"))));
      Kubectl.Result result = Kubectl.Proc.run(List.of(promtool.get().toString(), "check", "rules", file.toString()), dir);
      if (result.exitCode() != 0) {
        v.add(pr.id() + ": promtool check rules failed: " + (result.stdout() + result.stderr()).strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
