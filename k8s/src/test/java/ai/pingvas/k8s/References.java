package ai.pingvas.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Everything an object names by reference exists in the same rendering (and fits what refers to it). */
final class References {
  private References() {
  }

  static List<String> check(Rendered r) {
    List<String> v = new ArrayList<>();
    rollouts(r, v);
    pods(r, v);
    for (Obj o : r.ofKind("HorizontalPodAutoscaler", "ScaledObject")) {
      String kind = Obj.str(o.tree(), "spec", "scaleTargetRef", "kind");
      String name = Obj.str(o.tree(), "spec", "scaleTargetRef", "name");
      if (r.find(kind == null ? "Deployment" : kind, name) == null) {
        v.add(o.id() + ": scales " + kind + "/" + name + ", which does not exist");
      }
    }
    for (Obj o : r.ofKind("Service")) {
      Map<String, Object> selector = Obj.map(o.tree(), "spec", "selector");
      List<Obj> targets = workloads(r, selector);
      if (targets.isEmpty()) {
        v.add(o.id() + ": selects no workload's pods " + selector);
      }
      for (Obj job : r.ofKind("Job")) {
        if (matches(Obj.map(job.tree(), "spec", "template", "metadata", "labels"), selector)) {
          v.add(o.id() + ": also selects the pods of " + job.id() + ", which serve nothing");
        }
      }
      for (Object port : Obj.list(o.tree(), "spec", "ports")) {
        Object target = Obj.at(port, "targetPort");
        for (Obj w : targets) {
          if (target instanceof String name && !containerPorts(w).contains(name)) {
            v.add(o.id() + ": targetPort " + name + " is not a port of " + w.id());
          }
        }
      }
    }
    for (Obj o : r.ofKind("PodDisruptionBudget", "NetworkPolicy")) {
      Map<String, Object> selector = o.kind().equals("NetworkPolicy")
          ? Obj.map(o.tree(), "spec", "podSelector", "matchLabels")
          : Obj.map(o.tree(), "spec", "selector", "matchLabels");
      if (!selector.isEmpty() && workloads(r, selector).isEmpty()) {
        v.add(o.id() + ": selects no workload's pods " + selector);
      }
    }
    for (Obj o : r.ofKind("ServiceMonitor")) {
      Map<String, Object> selector = Obj.map(o.tree(), "spec", "selector", "matchLabels");
      List<Obj> services = r.where(s -> "Service".equals(s.kind()) && matches(Obj.map(s.tree(), "metadata", "labels"), selector));
      if (services.isEmpty()) {
        v.add(o.id() + ": selects no Service " + selector);
      }
      for (Object endpoint : Obj.list(o.tree(), "spec", "endpoints")) {
        String port = Obj.str(endpoint, "port");
        for (Obj s : services) {
          if (Obj.list(s.tree(), "spec", "ports").stream().noneMatch(p -> Objects.equals(port, Obj.str(p, "name")))) {
            v.add(o.id() + ": port " + port + " is not a port of " + s.id());
          }
        }
      }
    }
    for (Obj o : r.ofKind("Ingress")) {
      for (Object rule : Obj.list(o.tree(), "spec", "rules")) {
        for (Object path : Obj.list(rule, "http", "paths")) {
          String service = Obj.str(path, "backend", "service", "name");
          String port = Obj.str(path, "backend", "service", "port", "name");
          Obj s = r.find("Service", service);
          if (s == null) {
            v.add(o.id() + ": backend Service " + service + " does not exist");
          } else if (port != null && Obj.list(s.tree(), "spec", "ports").stream().noneMatch(p -> port.equals(Obj.str(p, "name")))) {
            v.add(o.id() + ": backend port " + port + " is not a port of " + s.id());
          }
        }
      }
    }
    return v;
  }

  private static void rollouts(Rendered r, List<String> v) {
    for (Obj ro : r.ofKind("Rollout")) {
      Object canary = ro.get("spec", "strategy", "canary");
      Object blueGreen = ro.get("spec", "strategy", "blueGreen");
      if (canary == null && blueGreen == null) {
        v.add(ro.id() + ": neither a canary nor a blueGreen strategy");
      }
      for (String field : List.of("canaryService", "stableService")) {
        service(r, ro, Obj.str(canary, field), "canary." + field, v);
      }
      for (String field : List.of("activeService", "previewService")) {
        service(r, ro, Obj.str(blueGreen, field), "blueGreen." + field, v);
      }
      String stableIngress = Obj.str(canary, "trafficRouting", "nginx", "stableIngress");
      if (stableIngress != null) {
        Obj ing = r.find("Ingress", stableIngress);
        String stable = Obj.str(canary, "stableService");
        if (ing == null) {
          v.add(ro.id() + ": stableIngress " + stableIngress + " does not exist");
        } else if (Obj.list(ing.tree(), "spec", "rules").stream().flatMap(rule -> Obj.list(rule, "http", "paths").stream())
            .noneMatch(path -> Objects.equals(stable, Obj.str(path, "backend", "service", "name")))) {
          v.add(ro.id() + ": stableIngress " + stableIngress + " has no backend on stableService " + stable);
        }
      }
      if (canary != null && Obj.list(canary, "steps").isEmpty()) {
        v.add(ro.id() + ": a canary without steps");
      }
      List<Object> analyses = new ArrayList<>();
      analyses.add(Obj.at(canary, "analysis"));
      Obj.list(canary, "steps").forEach(step -> analyses.add(Obj.at(step, "analysis")));
      analyses.add(Obj.at(blueGreen, "prePromotionAnalysis"));
      analyses.add(Obj.at(blueGreen, "postPromotionAnalysis"));
      for (Object analysis : analyses) {
        if (analysis == null) {
          continue;
        }
        List<String> given = Obj.list(analysis, "args").stream().map(a -> Obj.str(a, "name")).toList();
        for (Object t : Obj.list(analysis, "templates")) {
          String name = Obj.str(t, "templateName");
          boolean cluster = Boolean.TRUE.equals(Obj.at(t, "clusterScope"));
          Obj template = r.find(cluster ? "ClusterAnalysisTemplate" : "AnalysisTemplate", name);
          if (template == null) {
            v.add(ro.id() + ": AnalysisTemplate " + name + " does not exist");
            continue;
          }
          for (Object arg : Obj.list(template.tree(), "spec", "args")) {
            String argName = Obj.str(arg, "name");
            if (Obj.at(arg, "value") == null && Obj.at(arg, "valueFrom") == null && !given.contains(argName)) {
              v.add(ro.id() + ": does not pass argument " + argName + " that " + template.id() + " needs");
            }
          }
        }
      }
    }
  }

  private static void service(Rendered r, Obj ro, String name, String field, List<String> v) {
    if (name != null && r.find("Service", name) == null) {
      v.add(ro.id() + ": " + field + " " + name + " does not exist");
    }
  }

  private static void pods(Rendered r, List<String> v) {
    for (Checks.Pod pod : Checks.pods(r)) {
      String sa = Obj.str(pod.spec(), "serviceAccountName");
      if (sa != null && r.find("ServiceAccount", sa) == null) {
        v.add(pod.owner().id() + ": ServiceAccount " + sa + " does not exist");
      }
      for (Object c : pod.containers()) {
        for (Object ref : Obj.list(c, "envFrom")) {
          String cm = Obj.str(ref, "configMapRef", "name");
          String secret = Obj.str(ref, "secretRef", "name");
          if (cm != null && r.find("ConfigMap", cm) == null) {
            v.add(pod.where(c) + ": ConfigMap " + cm + " does not exist");
          }
          if (secret != null && externalSecretFor(r, secret) == null) {
            v.add(pod.where(c) + ": Secret " + secret + " is produced by no ExternalSecret");
          }
        }
      }
    }
  }

  /** The ExternalSecret whose target is the named Secret. */
  static Obj externalSecretFor(Rendered r, String secret) {
    return r.ofKind("ExternalSecret").stream()
        .filter(es -> secret.equals(Objects.requireNonNullElse(Obj.str(es.tree(), "spec", "target", "name"), es.name())))
        .findFirst().orElse(null);
  }

  static List<Obj> workloads(Rendered r, Map<String, Object> selector) {
    return r.where(o -> o.kind() != null && List.of("Rollout", "Deployment", "StatefulSet", "DaemonSet").contains(o.kind())
        && matches(Obj.map(o.tree(), "spec", "template", "metadata", "labels"), selector));
  }

  static boolean matches(Map<String, Object> labels, Map<String, Object> selector) {
    return selector.entrySet().stream().allMatch(e -> Objects.equals(String.valueOf(labels.get(e.getKey())),
        String.valueOf(e.getValue())));
  }

  private static List<String> containerPorts(Obj workload) {
    List<String> names = new ArrayList<>();
    for (Object c : Obj.list(workload.tree(), "spec", "template", "spec", "containers")) {
      Obj.list(c, "ports").forEach(p -> names.add(Obj.str(p, "name")));
    }
    return names;
  }
}
