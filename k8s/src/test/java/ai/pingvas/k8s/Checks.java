package ai.pingvas.k8s;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The policy checks, by id. Each returns its violations for one rendered kustomization (empty = pass);
 * the fixtures under checks/fixtures/ name the id they must make fail.
 */
final class Checks {
  static final Map<String, Function<Rendered, List<String>>> ALL = new LinkedHashMap<>();

  static {
    ALL.put("schema", SchemaValidator::validate);
    ALL.put("hardening", Checks::hardening);
    ALL.put("probes", Checks::probes);
    ALL.put("resources", Checks::resources);
    ALL.put("images", Checks::images);
    ALL.put("no-secrets", Checks::noSecrets);
    ALL.put("config-keys", Checks::configKeys);
    ALL.put("environment", Checks::environment);
    ALL.put("ingress", Checks::ingress);
    ALL.put("references", References::check);
    ALL.put("migrations", Checks::migrations);
    ALL.put("grace", Checks::grace);
    ALL.put("gpu", GpuFleet::check);
    ALL.put("rules", Rules::check);
    ALL.put("metrics", Checks::metrics);
    ALL.put("argocd", ArgoCd::check);
  }

  private Checks() {
  }

  /** A pod template with the object that owns it. */
  record Pod(Obj owner, Object spec) {
    List<Object> containers() {
      List<Object> all = new ArrayList<>(Obj.list(spec, "initContainers"));
      all.addAll(Obj.list(spec, "containers"));
      return all;
    }

    String where(Object container) {
      return owner.id() + " container " + Obj.str(container, "name");
    }
  }

  static List<Pod> pods(Rendered r) {
    List<Pod> pods = new ArrayList<>();
    for (Obj o : r.ofKind("Rollout", "Deployment", "StatefulSet", "DaemonSet", "Job")) {
      pods.add(new Pod(o, o.get("spec", "template", "spec")));
    }
    for (Obj o : r.ofKind("CronJob")) {
      pods.add(new Pod(o, o.get("spec", "jobTemplate", "spec", "template", "spec")));
    }
    return pods;
  }

  static List<String> hardening(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Pod pod : pods(r)) {
      boolean podNonRoot = Boolean.TRUE.equals(Obj.at(pod.spec(), "securityContext", "runAsNonRoot"));
      for (Object c : pod.containers()) {
        Object sc = Obj.at(c, "securityContext");
        if (!podNonRoot && !Boolean.TRUE.equals(Obj.at(sc, "runAsNonRoot"))) {
          v.add(pod.where(c) + ": runAsNonRoot is not true");
        }
        if (!Boolean.TRUE.equals(Obj.at(sc, "readOnlyRootFilesystem"))) {
          v.add(pod.where(c) + ": readOnlyRootFilesystem is not true");
        }
        if (!Boolean.FALSE.equals(Obj.at(sc, "allowPrivilegeEscalation"))) {
          v.add(pod.where(c) + ": allowPrivilegeEscalation is not false");
        }
        if (!Obj.list(sc, "capabilities", "drop").contains("ALL")) {
          v.add(pod.where(c) + ": capabilities do not drop ALL");
        }
        if (!Obj.list(sc, "capabilities", "add").isEmpty()) {
          v.add(pod.where(c) + ": adds capabilities " + Obj.list(sc, "capabilities", "add"));
        }
      }
    }
    return v;
  }

  /** Long-running workloads need liveness on /health/live and readiness on /health/ready. */
  static List<String> probes(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Pod pod : pods(r)) {
      if (pod.owner().kind().equals("Job") || pod.owner().kind().equals("CronJob")) {
        continue;
      }
      for (Object c : Obj.list(pod.spec(), "containers")) {
        String live = Obj.str(c, "livenessProbe", "httpGet", "path");
        String ready = Obj.str(c, "readinessProbe", "httpGet", "path");
        if (!"/health/live".equals(live)) {
          v.add(pod.where(c) + ": livenessProbe must GET /health/live, has " + live);
        }
        if (!"/health/ready".equals(ready)) {
          v.add(pod.where(c) + ": readinessProbe must GET /health/ready, has " + ready);
        }
        Set<Object> ports = new java.util.HashSet<>();
        for (Object p : Obj.list(c, "ports")) {
          ports.add(Obj.at(p, "name"));
          ports.add(Obj.at(p, "containerPort"));
        }
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
          Object port = Obj.at(c, probe, "httpGet", "port");
          if (port != null && !ports.contains(port)) {
            v.add(pod.where(c) + ": " + probe + " uses port " + port + " the container does not declare");
          }
        }
      }
    }
    return v;
  }

  static List<String> resources(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Pod pod : pods(r)) {
      for (Object c : pod.containers()) {
        for (String kind : List.of("requests", "limits")) {
          for (String res : List.of("cpu", "memory")) {
            if (Obj.at(c, "resources", kind, res) == null) {
              v.add(pod.where(c) + ": no " + res + " " + kind);
            }
          }
        }
      }
    }
    return v;
  }

  /** Images are ghcr.io/pingvas/<workload>, never :latest or untagged, tagged per the environment's scheme. */
  static List<String> images(Rendered r) {
    List<String> v = new ArrayList<>();
    String scheme = r.env() == null ? null : Repo.TAG_SCHEMES.get(r.env());
    for (Pod pod : pods(r)) {
      for (Object c : pod.containers()) {
        String image = Obj.str(c, "image");
        if (image == null) {
          v.add(pod.where(c) + ": no image");
          continue;
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        String tag = colon > slash ? image.substring(colon + 1) : null;
        String repo = colon > slash ? image.substring(0, colon) : image;
        if (tag == null && !image.contains("@sha256:")) {
          v.add(pod.where(c) + ": image " + image + " has no tag");
        } else if ("latest".equals(tag)) {
          v.add(pod.where(c) + ": image " + image + " uses :latest");
        } else if (scheme != null && tag != null && !tag.matches(scheme)) {
          v.add(pod.where(c) + ": tag " + tag + " does not follow the " + r.env() + " scheme " + scheme);
        }
        String app = pod.owner().label("app.kubernetes.io/name");
        if (!repo.equals("ghcr.io/pingvas/" + app)) {
          v.add(pod.where(c) + ": image " + repo + " is not ghcr.io/pingvas/" + app);
        }
      }
    }
    return v;
  }

  /** No Secret objects with values in git: runtime secrets come from ExternalSecrets. */
  static List<String> noSecrets(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Obj s : r.ofKind("Secret")) {
      if (!Obj.map(s.tree(), "data").isEmpty() || !Obj.map(s.tree(), "stringData").isEmpty()) {
        v.add(s.id() + ": a Secret with data is committed; use an ExternalSecret");
      }
    }
    Pattern secretish = Pattern.compile("(?i).*(password|token|secret|_key)$");
    for (Obj cm : r.ofKind("ConfigMap")) {
      Obj.map(cm.tree(), "data").forEach((k, val) -> {
        if (secretish.matcher(k).matches() && val != null && !val.toString().isEmpty()) {
          v.add(cm.id() + ": " + k + " holds a value in a ConfigMap; secrets belong in an ExternalSecret");
        }
      });
    }
    return v;
  }

  /** Every PINGVAS_* variable a container gets must be a key its service reads; others are silently ignored. */
  static List<String> configKeys(Rendered r) {
    List<String> v = new ArrayList<>();
    Set<String> platform = Repo.envNames(Repo.platformKeys());
    for (Pod pod : pods(r)) {
      String app = pod.owner().label("app.kubernetes.io/name");
      var own = Repo.serviceKeys(app);
      if (own.isEmpty()) {
        System.out.println("[k8s checks] config-keys: skipped " + pod.owner().id() + " in " + r.source()
            + ": " + app + " has no *-defaults.yaml in the repo yet");
        continue;
      }
      Set<String> known = new java.util.HashSet<>(platform);
      known.addAll(Repo.envNames(own.get()));
      for (Object c : pod.containers()) {
        Env.of(r, c).forEach((name, from) -> {
          if (name.startsWith("PINGVAS_") && !known.contains(name) && !name.equals("PINGVAS_CONFIG_FILE")) {
            v.add(pod.where(c) + ": " + name + " (from " + from + ") is no configuration key of " + app);
          }
        });
      }
    }
    return v;
  }

  /** Each service ConfigMap says which environment it is in, matching the overlay. */
  static List<String> environment(Rendered r) {
    List<String> v = new ArrayList<>();
    String expected = r.env() == null ? null : r.env().replace("-cpu", "");
    for (Obj cm : r.where(o -> "ConfigMap".equals(o.kind()) && "service".equals(o.label("pingvas.ai/config")))) {
      String actual = Obj.str(cm.tree(), "data", "PINGVAS_ENVIRONMENT");
      if (expected != null && !expected.equals(actual)) {
        v.add(cm.id() + ": PINGVAS_ENVIRONMENT is " + actual + ", expected " + expected);
      }
      if (expected != null && Obj.str(cm.tree(), "data", "LOG_LEVEL") == null) {
        v.add(cm.id() + ": no LOG_LEVEL");
      }
    }
    return v;
  }

  /** Ingresses publish only public paths: nothing under /internal, no catch-all (an Exact "/" is allowed). */
  static List<String> ingress(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Obj ing : r.ofKind("Ingress")) {
      for (Object rule : Obj.list(ing.tree(), "spec", "rules")) {
        for (Object path : Obj.list(rule, "http", "paths")) {
          String p = Obj.str(path, "path");
          String type = Obj.str(path, "pathType");
          // An Exact "/" (the Studio's redirect) is one page, not a catch-all or a parent of /internal.
          boolean exactRoot = "/".equals(p) && "Exact".equals(type);
          if (p == null || (!exactRoot && (p.startsWith("/internal") || "/internal".startsWith(p)))
              || "ImplementationSpecific".equals(type)) {
            v.add(ing.id() + ": path " + p + " (" + type + ") would expose /internal/* or everything");
          }
        }
      }
    }
    return v;
  }

  /**
   * A service with a database migrates in a PreSync hook Job (its own image, args [migrate], the same
   * schema), reading a Secret that an earlier PreSync hook ExternalSecret produces; its pods do not migrate.
   */
  static List<String> migrations(Rendered r) {
    List<String> v = new ArrayList<>();
    for (Obj ro : r.ofKind("Rollout", "Deployment")) {
      Object container = Obj.at(ro.tree(), "spec", "template", "spec", "containers", 0);
      Map<String, String> env = Env.values(r, container);
      String schema = env.get("PINGVAS_PG_SCHEMA");
      if (schema == null) {
        continue;
      }
      if (!"false".equals(env.get("PINGVAS_PG_MIGRATE"))) {
        v.add(ro.id() + ": has a database but PINGVAS_PG_MIGRATE is not false (the PreSync hook migrates)");
      }
      Obj job = r.find("Job", ro.name() + "-migrate");
      if (job == null) {
        v.add(ro.id() + ": no PreSync migration Job " + ro.name() + "-migrate");
        continue;
      }
      if (!"PreSync".equals(job.annotation("argocd.argoproj.io/hook"))) {
        v.add(job.id() + ": is not an Argo CD PreSync hook");
      }
      Object jc = Obj.at(job.tree(), "spec", "template", "spec", "containers", 0);
      if (!Objects.equals(Obj.str(jc, "image"), Obj.str(container, "image"))) {
        v.add(job.id() + ": image " + Obj.str(jc, "image") + " differs from " + Obj.str(container, "image"));
      }
      if (!List.of("migrate").equals(Obj.list(jc, "args"))) {
        v.add(job.id() + ": args must be [migrate]");
      }
      if (!schema.equals(Env.values(r, jc).get("PINGVAS_PG_SCHEMA"))) {
        v.add(job.id() + ": migrates schema " + Env.values(r, jc).get("PINGVAS_PG_SCHEMA") + ", the service uses " + schema);
      }
      String account = Obj.str(job.tree(), "spec", "template", "spec", "serviceAccountName");
      Obj sa = account == null ? null : r.find("ServiceAccount", account);
      if (sa != null && !"PreSync".equals(sa.annotation("argocd.argoproj.io/hook"))) {
        v.add(job.id() + ": runs as ServiceAccount " + account + ", which is applied only after the PreSync phase");
      }
      int jobWave = wave(job);
      for (Object ref : Obj.list(jc, "envFrom")) {
        String secret = Obj.str(ref, "secretRef", "name");
        if (secret == null) {
          continue;
        }
        Obj es = References.externalSecretFor(r, secret);
        if (es == null || !"PreSync".equals(es.annotation("argocd.argoproj.io/hook")) || wave(es) >= jobWave) {
          v.add(job.id() + ": Secret " + secret + " must come from a PreSync ExternalSecret in an earlier wave");
        }
      }
    }
    return v;
  }

  static int wave(Obj o) {
    String w = o.annotation("argocd.argoproj.io/sync-wave");
    return w == null ? 0 : Integer.parseInt(w);
  }

  /**
   * Grace periods cover draining: preStop + shutdown.grace for services; for the worker, a whole job
   * (generation-service's execution.timeout) on top of that.
   */
  static List<String> grace(Rendered r) {
    List<String> v = new ArrayList<>();
    Duration executionTimeout = executionTimeout(r);
    for (Obj w : r.ofKind("Rollout", "Deployment")) {
      Object spec = w.get("spec", "template", "spec");
      Object container = Obj.at(spec, "containers", 0);
      Number termination = (Number) Obj.at(spec, "terminationGracePeriodSeconds");
      long seconds = termination == null ? 30 : termination.longValue();
      Duration shutdown = Durations.parse(Env.values(r, container).getOrDefault("PINGVAS_SHUTDOWN_GRACE", "20s"));
      Number preStop = (Number) Obj.at(container, "lifecycle", "preStop", "sleep", "seconds");
      long needed = shutdown.toSeconds() + (preStop == null ? 0 : preStop.longValue()) + 5;
      if (seconds < needed) {
        v.add(w.id() + ": terminationGracePeriodSeconds " + seconds + " < preStop + shutdown.grace + 5 s = " + needed);
      }
      if ("worker".equals(w.label("app.kubernetes.io/name"))) {
        long job = executionTimeout.toSeconds() + 30;
        if (seconds < job) {
          v.add(w.id() + ": terminationGracePeriodSeconds " + seconds + " cannot finish a job: execution.timeout "
              + executionTimeout.toSeconds() + " s + 30 s upload = " + job + " s");
        }
        if (shutdown.toSeconds() < executionTimeout.toSeconds()) {
          v.add(w.id() + ": shutdown.grace " + shutdown + " is shorter than execution.timeout " + executionTimeout);
        }
      }
    }
    return v;
  }

  /** generation-service's execution.timeout as deployed, else its code default. */
  static Duration executionTimeout(Rendered r) {
    Obj router = r.find("Rollout", "generation-service");
    if (router != null) {
      String deployed = Env.values(r, router.get("spec", "template", "spec", "containers", 0)).get("PINGVAS_EXECUTION_TIMEOUT");
      if (deployed != null) {
        return Durations.parse(deployed);
      }
    }
    Object defaults = new org.yaml.snakeyaml.Yaml().load(Repo.read(Repo.module("generation-service")
        .resolve("src/main/resources/generation-defaults.yaml")));
    return Durations.parse(Obj.str(defaults, "execution", "timeout"));
  }

  static List<String> metrics(Rendered r) {
    Map<String, MetricCatalog> catalogs = new LinkedHashMap<>();
    for (String service : List.of("generation-service", "worker")) {
      catalogs.put(service, MetricCatalog.capture(service));
    }
    Map<String, Set<String>> lazy = MetricCheck.lazyMetrics();
    List<String> v = new ArrayList<>(MetricCheck.verifyLazy(lazy));
    v.addAll(MetricCheck.check(MetricCheck.queries(r), catalogs, lazy));
    return v;
  }

  /** Go-style durations as the services write them (10m, 630s, 1h). */
  static final class Durations {
    private Durations() {
    }

    static Duration parse(String text) {
      var m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.strip());
      if (!m.matches()) {
        throw new IllegalArgumentException("not a duration: " + text);
      }
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
  }
}
