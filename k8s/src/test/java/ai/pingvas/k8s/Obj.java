package ai.pingvas.k8s;

import java.util.List;
import java.util.Map;

/** One rendered Kubernetes object with null-safe accessors over its YAML tree. */
record Obj(Map<String, Object> tree) {

  String kind() {
    return str(tree, "kind");
  }

  String name() {
    return str(tree, "metadata", "name");
  }

  String id() {
    return kind() + "/" + name();
  }

  String annotation(String key) {
    Object value = at(tree, "metadata", "annotations", key);
    return value == null ? null : value.toString();
  }

  String label(String key) {
    Object value = at(tree, "metadata", "labels", key);
    return value == null ? null : value.toString();
  }

  Object get(Object... path) {
    return at(tree, path);
  }

  /** Walks maps by key and lists by integer index; null when any step is missing. */
  static Object at(Object node, Object... path) {
    Object current = node;
    for (Object step : path) {
      if (current instanceof Map<?, ?> map && step instanceof String key) {
        current = map.get(key);
      } else if (current instanceof List<?> list && step instanceof Integer index && index < list.size()) {
        current = list.get(index);
      } else {
        return null;
      }
    }
    return current;
  }

  static String str(Object node, Object... path) {
    Object value = at(node, path);
    return value == null ? null : value.toString();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object node, Object... path) {
    Object value = at(node, path);
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object node, Object... path) {
    Object value = at(node, path);
    return value instanceof List<?> l ? (List<Object>) l : List.of();
  }
}
