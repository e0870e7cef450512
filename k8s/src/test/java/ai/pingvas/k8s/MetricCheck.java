package ai.pingvas.k8s;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Every metric an AnalysisTemplate, PrometheusRule, Grafana dashboard or ScaledObject queries must be
 * one a service really exports. A selector with service="x" is checked against x's catalog; one without
 * (or with a templated value) against all catalogs. Metrics a service registers only on first use
 * (declared in checks/metrics/lazy.txt) count when the service's source really builds them.
 */
final class MetricCheck {
  /** A query found in a rendered object. */
  record Query(String where, String expr) {
  }

  private MetricCheck() {
  }

  static List<Query> queries(Rendered rendered) {
    List<Query> queries = new ArrayList<>();
    for (Obj o : rendered.ofKind("AnalysisTemplate", "ClusterAnalysisTemplate")) {
      for (Object metric : Obj.list(o.tree(), "spec", "metrics")) {
        String q = Obj.str(metric, "provider", "prometheus", "query");
        if (q != null) {
          queries.add(new Query(o.id() + " metric " + Obj.str(metric, "name"), q));
        }
      }
    }
    for (Obj o : rendered.ofKind("PrometheusRule")) {
      for (Object group : Obj.list(o.tree(), "spec", "groups")) {
        for (Object rule : Obj.list(group, "rules")) {
          String name = Obj.str(rule, "alert") != null ? Obj.str(rule, "alert") : Obj.str(rule, "record");
          queries.add(new Query(o.id() + " rule " + name, Obj.str(rule, "expr")));
        }
      }
    }
    for (Obj o : rendered.ofKind("ScaledObject")) {
      for (Object trigger : Obj.list(o.tree(), "spec", "triggers")) {
        if ("prometheus".equals(Obj.str(trigger, "type"))) {
          queries.add(new Query(o.id() + " trigger", Obj.str(trigger, "metadata", "query")));
        }
      }
    }
    for (Obj o : rendered.where(x -> "ConfigMap".equals(x.kind()) && x.label("grafana_dashboard") != null)) {
      Obj.map(o.tree(), "data").forEach((file, json) -> {
        Object dashboard = new org.yaml.snakeyaml.Yaml().load(json.toString());
        collectPanels(o.id() + " " + file, Obj.list(dashboard, "panels"), queries);
      });
    }
    return queries;
  }

  private static void collectPanels(String where, List<Object> panels, List<Query> out) {
    for (Object panel : panels) {
      for (Object target : Obj.list(panel, "targets")) {
        String expr = Obj.str(target, "expr");
        if (expr != null) {
          out.add(new Query(where + " panel '" + Obj.str(panel, "title") + "'", expr));
        }
      }
      collectPanels(where, Obj.list(panel, "panels"), out);
    }
  }

  /** Metrics that appear only after their first event, per service; each must be built in that service's code. */
  static Map<String, Set<String>> lazyMetrics() {
    Map<String, Set<String>> lazy = new LinkedHashMap<>();
    for (String line : Repo.read(Repo.k8s().resolve("checks/metrics/lazy.txt")).split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] parts = l.split("\\s+");
      lazy.computeIfAbsent(parts[0], k -> new TreeSet<>()).add(parts[1]);
    }
    return lazy;
  }

  /** Problems with lazy declarations: a name the service's source never builds is not a metric. */
  static List<String> verifyLazy(Map<String, Set<String>> lazy) {
    List<String> problems = new ArrayList<>();
    lazy.forEach((service, names) -> {
      String source = Repo.source(service);
      for (String name : names) {
        String base = name.replaceAll("_(bucket|count|sum|max)$", "");
        if (!Pattern.compile("\\.builder\\(\"" + Pattern.quote(base) + "\"").matcher(source).find()) {
          problems.add("lazy.txt declares " + name + " for " + service + " but its code builds no such meter");
        }
      }
    });
    return problems;
  }

  static List<String> check(List<Query> queries, Map<String, MetricCatalog> catalogs,
      Map<String, Set<String>> lazy) {
    List<String> problems = new ArrayList<>();
    for (Query q : queries) {
      List<PromQl.Selector> selectors;
      try {
        selectors = PromQl.selectors(q.expr());
      } catch (IllegalArgumentException e) {
        problems.add(q.where() + ": " + e.getMessage());
        continue;
      }
      if (selectors.isEmpty()) {
        problems.add(q.where() + ": queries no metric at all: " + q.expr());
      }
      for (PromQl.Selector sel : selectors) {
        String service = sel.equals().get("service");
        boolean known = service != null && !service.contains("{{") && catalogs.containsKey(service);
        boolean exported = known ? exports(catalogs.get(service), lazy, sel.metric())
            : catalogs.values().stream().anyMatch(c -> exports(c, lazy, sel.metric()));
        if (!exported) {
          problems.add(q.where() + ": " + sel.metric() + " is not exported by "
              + (known ? service + " (" + catalogs.get(service).origin() + ")" : "any service " + catalogs.keySet()));
        }
      }
    }
    return problems;
  }

  private static boolean exports(MetricCatalog catalog, Map<String, Set<String>> lazy, String metric) {
    return catalog.names().contains(metric) || lazy.getOrDefault(catalog.service(), Set.of()).contains(metric);
  }
}
