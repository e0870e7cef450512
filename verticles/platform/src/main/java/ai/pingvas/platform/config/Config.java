package ai.pingvas.platform.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A service's effective configuration as flat dotted keys ({@code pg.url}), with typed accessors.
 *
 * <p>Every key must exist in the service's defaults: a typo in a YAML file or an environment variable
 * cannot silently create a setting nobody reads.
 */
public final class Config {

  private final Map<String, Object> values;

  Config(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** Configuration from literal values, for tests and embedded use. */
  public static Config of(Map<String, ?> values) {
    return new Config(new LinkedHashMap<>(values));
  }

  /** A copy with some keys replaced; the keys must already exist. */
  public Config with(Map<String, ?> overrides) {
    Map<String, Object> merged = new LinkedHashMap<>(values);
    overrides.forEach((key, value) -> {
      if (!merged.containsKey(key)) {
        throw new ConfigException("unknown configuration key '" + key + "'");
      }
      merged.put(key, value);
    });
    return new Config(merged);
  }

  /** A copy with one key replaced. */
  public Config with(String key, Object value) {
    return with(Map.of(key, value));
  }

  public boolean has(String key) {
    return values.containsKey(key) && values.get(key) != null;
  }

  public String string(String key) {
    Object value = require(key);
    return String.valueOf(value);
  }

  /** The value, or null when it is set to null or empty. */
  public String optionalString(String key) {
    Object value = values.get(key);
    if (value == null) {
      return null;
    }
    String text = String.valueOf(value).trim();
    return text.isEmpty() ? null : text;
  }

  public int integer(String key) {
    Object value = require(key);
    if (value instanceof Number number) {
      return number.intValue();
    }
    try {
      return Integer.parseInt(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, got '" + value + "'");
    }
  }

  /** {@link #integer}, refused below {@code min}. */
  public int integer(String key, int min) {
    int value = integer(key);
    if (value < min) {
      throw new ConfigException(key + " must be at least " + min + ", got " + value);
    }
    return value;
  }

  public long longValue(String key) {
    Object value = require(key);
    if (value instanceof Number number) {
      return number.longValue();
    }
    try {
      return Long.parseLong(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, got '" + value + "'");
    }
  }

  public double decimal(String key) {
    Object value = require(key);
    if (value instanceof Number number) {
      return number.doubleValue();
    }
    try {
      return Double.parseDouble(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be a number, got '" + value + "'");
    }
  }

  public boolean bool(String key) {
    Object value = require(key);
    if (value instanceof Boolean b) {
      return b;
    }
    String text = String.valueOf(value).trim().toLowerCase(Locale.ROOT);
    return switch (text) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new ConfigException(key + " must be true or false, got '" + value + "'");
    };
  }

  /** A string that must be one of {@code allowed} (compared without case; returned in lower case). */
  public String oneOf(String key, List<String> allowed) {
    String text = String.valueOf(require(key)).trim().toLowerCase(Locale.ROOT);
    if (!allowed.contains(text)) {
      throw new ConfigException(key + " must be one of " + allowed + ", got '" + require(key) + "'");
    }
    return text;
  }

  /** A duration written as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h} or {@code 1d}. */
  public Duration duration(String key) {
    return Durations.parse(key, String.valueOf(require(key)));
  }

  /** A comma-separated or YAML list of strings. */
  public List<String> list(String key) {
    Object value = values.get(key);
    if (value == null) {
      return List.of();
    }
    if (value instanceof List<?> list) {
      return list.stream().map(String::valueOf).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
    String text = String.valueOf(value).trim();
    if (text.isEmpty()) {
      return List.of();
    }
    return List.of(text.split("\\s*,\\s*"));
  }

  /** All keys under a prefix, with the prefix removed ({@code tiers.free.weight} under {@code tiers.}). */
  public Map<String, Object> subtree(String prefix) {
    Map<String, Object> out = new LinkedHashMap<>();
    values.forEach((key, value) -> {
      if (key.startsWith(prefix)) {
        out.put(key.substring(prefix.length()), value);
      }
    });
    return out;
  }

  public Map<String, Object> asMap() {
    return values;
  }

  private Object require(String key) {
    Object value = values.get(key);
    if (value == null) {
      throw new ConfigException("missing configuration key '" + key + "' (environment variable "
          + ConfigLoader.envName(key) + ")");
    }
    return value;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Config config && config.values.equals(values);
  }

  @Override
  public int hashCode() {
    return Objects.hash(values);
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("Config{");
    values.forEach((key, value) -> out.append(key).append('=')
        .append(ConfigLoader.isSecret(key) ? "******" : value).append(", "));
    return out.append('}').toString();
  }
}
