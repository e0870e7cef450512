package ai.pingvas.platform.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A quick "certainly valid" check of a request body, compiled once from the same JSON Schema the
 * full validator uses. It understands only the plain keywords our request bodies use (type,
 * properties, required, additionalProperties, string lengths and patterns, numeric bounds and
 * integer multiples, string enums, arrays of one item schema) and answers {@code true} only when
 * sure the body is valid; everything else — an invalid body, a keyword it does not know, a value
 * it cannot judge exactly (a non-integral number where an integer is required, a string with
 * surrogate pairs) — goes to the full validator, which decides and words the errors. So the fast
 * path can make validation cheaper, never more lenient; {@code FastSchemaCheckTest} compares both
 * on thousands of generated bodies.
 */
final class FastSchemaCheck {
  /** One compiled schema node: true when the value certainly satisfies it. */
  private interface Node {
    boolean certainlyValid(Object value);
  }

  private static final Set<String> ANNOTATIONS = Set.of("description", "title", "default", "example", "examples",
      "deprecated", "readOnly", "writeOnly", "$comment");

  private final Node root;

  private FastSchemaCheck(Node root) {
    this.root = root;
  }

  /**
   * Compiles the schema; null when it uses anything this check does not understand (then every
   * body goes to the full validator). {@code refs} resolves a {@code $ref} to its schema, or null.
   */
  static FastSchemaCheck compile(JsonObject schema, Function<String, JsonObject> refs) {
    try {
      return new FastSchemaCheck(node(schema, refs, 0));
    } catch (Unsupported e) {
      return null;
    }
  }

  boolean certainlyValid(JsonObject body) {
    return root.certainlyValid(body);
  }

  private static final class Unsupported extends RuntimeException {
    Unsupported(String what) {
      super(what, null, false, false);
    }
  }

  private static Node node(JsonObject schema, Function<String, JsonObject> refs, int depth) {
    if (depth > 16) {
      throw new Unsupported("nesting");
    }
    if (schema.containsKey("$ref")) {
      boolean alone = schema.fieldNames().stream().allMatch(k -> k.equals("$ref") || k.startsWith("__"));
      JsonObject target = alone && schema.getValue("$ref") instanceof String ref ? refs.apply(ref) : null;
      if (target == null) {
        throw new Unsupported("$ref");
      }
      return node(target, refs, depth + 1);
    }
    List<Node> checks = new ArrayList<>();
    for (String key : schema.fieldNames()) {
      Object v = schema.getValue(key);
      if (ANNOTATIONS.contains(key) || key.startsWith("__")) {
        continue; // annotations, and the keys the schema repository adds while dereferencing
      }
      switch (key) {
        case "type" -> checks.add(type(string(v)));
        case "properties", "required", "additionalProperties" -> {
        } // compiled together below
        case "minLength" -> {
          long min = count(v);
          checks.add(x -> x instanceof String s && plainLength(s) >= min);
        }
        case "maxLength" -> {
          long max = count(v);
          checks.add(x -> {
            int length = x instanceof String s ? plainLength(s) : -1;
            return length >= 0 && length <= max;
          });
        }
        case "pattern" -> {
          Pattern p = Pattern.compile(string(v));
          checks.add(x -> x instanceof String s && p.matcher(s).find());
        }
        case "minimum" -> {
          double min = number(v);
          checks.add(x -> x instanceof Number n && exact(n) && n.doubleValue() >= min);
        }
        case "maximum" -> {
          double max = number(v);
          checks.add(x -> x instanceof Number n && exact(n) && n.doubleValue() <= max);
        }
        case "multipleOf" -> {
          long m = count(v);
          if (m <= 0) {
            throw new Unsupported("multipleOf");
          }
          checks.add(x -> integral(x) && ((Number) x).longValue() % m == 0);
        }
        case "enum" -> {
          Set<String> allowed = new HashSet<>();
          for (Object e : (JsonArray) v) {
            allowed.add(string(e));
          }
          checks.add(x -> x instanceof String s && allowed.contains(s));
        }
        case "items" -> {
          Node item = node(object(v), refs, depth + 1);
          checks.add(x -> {
            if (!(x instanceof JsonArray array)) {
              return false;
            }
            for (int i = 0; i < array.size(); i++) {
              if (!item.certainlyValid(array.getValue(i))) {
                return false;
              }
            }
            return true;
          });
        }
        case "maxItems" -> {
          long max = count(v);
          checks.add(x -> x instanceof JsonArray a && a.size() <= max);
        }
        case "minItems" -> {
          long min = count(v);
          checks.add(x -> x instanceof JsonArray a && a.size() >= min);
        }
        default -> throw new Unsupported(key);
      }
    }
    if (schema.containsKey("properties") || schema.containsKey("required")
        || schema.containsKey("additionalProperties")) {
      checks.add(objectCheck(schema, refs, depth));
    }
    Node[] all = checks.toArray(Node[]::new);
    return x -> {
      for (Node check : all) {
        if (!check.certainlyValid(x)) {
          return false;
        }
      }
      return true;
    };
  }

  private static Node objectCheck(JsonObject schema, Function<String, JsonObject> refs, int depth) {
    Map<String, Node> properties = new HashMap<>();
    JsonObject props = schema.getValue("properties") == null ? new JsonObject() : object(schema.getValue("properties"));
    for (String name : props.fieldNames()) {
      properties.put(name, node(object(props.getValue(name)), refs, depth + 1));
    }
    List<String> required = new ArrayList<>();
    if (schema.getValue("required") != null) {
      for (Object r : (JsonArray) schema.getValue("required")) {
        required.add(string(r));
      }
    }
    Object additional = schema.getValue("additionalProperties");
    if (additional != null && !(additional instanceof Boolean)) {
      throw new Unsupported("additionalProperties schema");
    }
    boolean closed = Boolean.FALSE.equals(additional);
    return x -> {
      if (!(x instanceof JsonObject object)) {
        return false;
      }
      for (String name : required) {
        if (!object.containsKey(name)) {
          return false;
        }
      }
      for (String name : object.fieldNames()) {
        Node property = properties.get(name);
        if (property == null ? closed : !property.certainlyValid(object.getValue(name))) {
          return false;
        }
      }
      return true;
    };
  }

  private static Node type(String type) {
    return switch (type) {
      case "object" -> x -> x instanceof JsonObject;
      case "array" -> x -> x instanceof JsonArray;
      case "string" -> x -> x instanceof String;
      case "boolean" -> x -> x instanceof Boolean;
      case "integer" -> FastSchemaCheck::integral;
      case "number" -> x -> x instanceof Number n && exact(n);
      default -> throw new Unsupported("type " + type);
    };
  }

  /** An integer value as JSON decoding gives it (a 5.0 is left to the full validator). */
  private static boolean integral(Object x) {
    return x instanceof Integer || x instanceof Long || x instanceof Short || x instanceof Byte;
  }

  /** A number whose double value is exact enough to compare against bounds. */
  private static boolean exact(Number n) {
    return n instanceof Integer || n instanceof Long && Math.abs(n.longValue()) < (1L << 53) || n instanceof Short
        || n instanceof Byte || n instanceof Double d && Double.isFinite(d) || n instanceof Float f && Float.isFinite(f);
  }

  /** The string's length in code points, or -1 when it has surrogate pairs (left to the full validator). */
  private static int plainLength(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isSurrogate(s.charAt(i))) {
        return -1;
      }
    }
    return s.length();
  }

  private static String string(Object v) {
    if (v instanceof String s) {
      return s;
    }
    throw new Unsupported("non-string");
  }

  private static JsonObject object(Object v) {
    if (v instanceof JsonObject o) {
      return o;
    }
    if (v instanceof Map<?, ?> m) {
      @SuppressWarnings("unchecked")
      Map<String, Object> map = (Map<String, Object>) m;
      return new JsonObject(map);
    }
    throw new Unsupported("non-object schema");
  }

  private static long count(Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof BigInteger b && b.bitLength() < 63) {
      return ((Number) v).longValue();
    }
    throw new Unsupported("non-integer bound");
  }

  private static double number(Object v) {
    if (v instanceof Number n && exact(n)) {
      return n.doubleValue();
    }
    throw new Unsupported("bound");
  }
}
