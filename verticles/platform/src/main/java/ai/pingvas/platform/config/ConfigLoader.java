package ai.pingvas.platform.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Loads configuration in three layers: the platform and service defaults packaged in the jar, then
 * the YAML file named by {@code PINGVAS_CONFIG_FILE} (if any), then environment variables.
 *
 * <p>The environment variable of a key is {@code PINGVAS_} followed by the key upper-cased with dots
 * and dashes turned into underscores: {@code pg.pool-size} is {@code PINGVAS_PG_POOL_SIZE}.
 * Runs once at start-up, before the event loop exists, so its blocking file reads are harmless.
 */
public final class ConfigLoader {
  public static final String FILE_VARIABLE = "PINGVAS_CONFIG_FILE";
  private static final String PLATFORM_DEFAULTS = "/platform-defaults.yaml";

  private ConfigLoader() {
  }

  /** Loads defaults, file and process environment. */
  public static Config load(String serviceDefaults) {
    return load(serviceDefaults, System.getenv());
  }

  /** Loads defaults, file (named in {@code env}) and {@code env}. */
  public static Config load(String serviceDefaults, Map<String, String> env) {
    Map<String, Object> values = new LinkedHashMap<>();
    flatten("", readResource(PLATFORM_DEFAULTS), values);
    flatten("", readResource(serviceDefaults), values);

    String file = env.get(FILE_VARIABLE);
    if (file != null && !file.isBlank()) {
      Map<String, Object> fromFile = new LinkedHashMap<>();
      flatten("", readFile(Path.of(file)), fromFile);
      fromFile.forEach((key, value) -> {
        if (!values.containsKey(key)) {
          throw new ConfigException("unknown configuration key '" + key + "' in " + file);
        }
        values.put(key, value);
      });
    }

    for (String key : List.copyOf(values.keySet())) {
      String fromEnv = env.get(envName(key));
      if (fromEnv != null) {
        values.put(key, fromEnv);
      }
    }
    return new Config(values);
  }

  /** The environment variable that overrides a key. */
  public static String envName(String key) {
    return "PINGVAS_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  static boolean isSecret(String key) {
    String lower = key.toLowerCase(Locale.ROOT);
    return lower.contains("password") || lower.contains("secret") || lower.contains("token")
        || lower.endsWith("key") && !lower.endsWith("public-key");
  }

  private static Map<String, Object> readResource(String name) {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new ConfigException("configuration defaults " + name + " are not on the classpath");
      }
      return parse(in, name);
    } catch (IOException e) {
      throw new ConfigException("cannot read " + name, e);
    }
  }

  private static Map<String, Object> readFile(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      return parse(in, path.toString());
    } catch (IOException e) {
      throw new ConfigException("cannot read configuration file " + path + ": " + e.getMessage(), e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parse(InputStream in, String source) {
    Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    if (root == null) {
      return Map.of();
    }
    if (!(root instanceof Map)) {
      throw new ConfigException(source + " must hold a YAML mapping");
    }
    return (Map<String, Object>) root;
  }

  @SuppressWarnings("unchecked")
  private static void flatten(String prefix, Map<String, Object> tree, Map<String, Object> out) {
    tree.forEach((key, value) -> {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (value instanceof Map<?, ?> nested) {
        flatten(path, (Map<String, Object>) nested, out);
      } else {
        out.put(path, value);
      }
    });
  }
}
