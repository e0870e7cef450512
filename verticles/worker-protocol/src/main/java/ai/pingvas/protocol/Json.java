package ai.pingvas.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Strict field readers: a missing or mistyped field is a {@link ProtocolException}, not a null. */
final class Json {
  private Json() {
  }

  /** One text frame as a JSON object. */
  static JsonObject frame(String frame) {
    try {
      return new JsonObject(frame);
    } catch (DecodeException | ClassCastException e) {
      throw new ProtocolException("frame is not a JSON object");
    }
  }

  static String str(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (!(value instanceof String text)) {
      throw new ProtocolException("field '" + field + "' must be a string");
    }
    return text;
  }

  /**
   * Free text a worker reports (an error code or message), as the router can store it: without NUL
   * characters, which Postgres text and jsonb cannot hold (a statement carrying one fails, and with
   * it every job's write batched into it), and cut to {@code max} characters, so that no report
   * outgrows the job event it is copied into. Null stays null.
   */
  static String storable(String text, int max) {
    if (text == null) {
      return null;
    }
    String clean = text.indexOf('\0') >= 0 ? text.replace("\0", "") : text;
    return clean.length() <= max ? clean : clean.substring(0, max - 1) + "\u2026";
  }

  /** A string field that names something (a storage key, a digest): refused if it holds NUL or is longer than {@code max}. */
  static String name(JsonObject json, String field, int max) {
    String text = str(json, field);
    if (text.indexOf('\0') >= 0 || text.length() > max) {
      throw new ProtocolException("field '" + field + "' must be at most " + max + " characters, without NUL");
    }
    return text;
  }

  static String optStr(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      throw new ProtocolException("field '" + field + "' must be a string");
    }
    return text;
  }

  static long num(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (!(value instanceof Number number)) {
      throw new ProtocolException("field '" + field + "' must be a number");
    }
    return number.longValue();
  }

  static long optNum(JsonObject json, String field, long fallback) {
    Object value = json.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number number)) {
      throw new ProtocolException("field '" + field + "' must be a number");
    }
    return number.longValue();
  }

  static double dbl(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (!(value instanceof Number number)) {
      throw new ProtocolException("field '" + field + "' must be a number");
    }
    return number.doubleValue();
  }

  static boolean optBool(JsonObject json, String field, boolean fallback) {
    Object value = json.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean b)) {
      throw new ProtocolException("field '" + field + "' must be a boolean");
    }
    return b;
  }

  static JsonObject obj(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (!(value instanceof JsonObject object)) {
      throw new ProtocolException("field '" + field + "' must be an object");
    }
    return object;
  }

  /** An optional object of string values ({@code {}} when absent). */
  static Map<String, String> stringMap(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof JsonObject object)) {
      throw new ProtocolException("field '" + field + "' must be an object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : object) {
      if (!(e.getValue() instanceof String text)) {
        throw new ProtocolException("field '" + field + "." + e.getKey() + "' must be a string");
      }
      out.put(e.getKey(), text);
    }
    return Collections.unmodifiableMap(out);
  }

  static List<String> strings(JsonObject json, String field) {
    return list(json, field, item -> {
      if (!(item instanceof String text)) {
        throw new ProtocolException("field '" + field + "' must hold strings");
      }
      return text;
    });
  }

  static <T> List<T> objects(JsonObject json, String field, Function<JsonObject, T> reader) {
    return list(json, field, item -> {
      if (!(item instanceof JsonObject object)) {
        throw new ProtocolException("field '" + field + "' must hold objects");
      }
      return reader.apply(object);
    });
  }

  private static <T> List<T> list(JsonObject json, String field, Function<Object, T> reader) {
    Object value = json.getValue(field);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw new ProtocolException("field '" + field + "' must be an array");
    }
    List<T> out = new ArrayList<>(array.size());
    for (Object item : array) {
      out.add(reader.apply(item));
    }
    return List.copyOf(out);
  }

  static JsonArray array(List<?> items, Function<Object, Object> writer) {
    JsonArray out = new JsonArray();
    for (Object item : items) {
      out.add(writer.apply(item));
    }
    return out;
  }
}
