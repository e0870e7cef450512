package ai.pingvas.k8s;

import java.util.LinkedHashMap;
import java.util.Map;

/** The environment a container gets: envFrom ConfigMaps and Secrets (via their ExternalSecret) and env. */
final class Env {
  private Env() {
  }

  /** Variable name -> where it comes from. */
  static Map<String, String> of(Rendered r, Object container) {
    Map<String, String> vars = new LinkedHashMap<>();
    for (Object ref : Obj.list(container, "envFrom")) {
      String cm = Obj.str(ref, "configMapRef", "name");
      String secret = Obj.str(ref, "secretRef", "name");
      if (cm != null && r.find("ConfigMap", cm) != null) {
        Obj.map(r.find("ConfigMap", cm).tree(), "data").keySet().forEach(k -> vars.put(k, "ConfigMap " + cm));
      }
      if (secret != null) {
        Obj es = References.externalSecretFor(r, secret);
        if (es != null) {
          for (Object d : Obj.list(es.tree(), "spec", "data")) {
            vars.put(Obj.str(d, "secretKey"), "ExternalSecret " + es.name());
          }
        }
      }
    }
    for (Object e : Obj.list(container, "env")) {
      vars.put(Obj.str(e, "name"), "env");
    }
    return vars;
  }

  /** Variable name -> literal value, for the variables whose value is in the manifests. */
  static Map<String, String> values(Rendered r, Object container) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Object ref : Obj.list(container, "envFrom")) {
      String cm = Obj.str(ref, "configMapRef", "name");
      if (cm != null && r.find("ConfigMap", cm) != null) {
        Obj.map(r.find("ConfigMap", cm).tree(), "data").forEach((k, v) -> values.put(k, String.valueOf(v)));
      }
    }
    for (Object e : Obj.list(container, "env")) {
      if (Obj.at(e, "value") != null) {
        values.put(Obj.str(e, "name"), Obj.str(e, "value"));
      }
    }
    return values;
  }
}
