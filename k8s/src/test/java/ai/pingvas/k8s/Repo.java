package ai.pingvas.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.yaml.snakeyaml.Yaml;

/** Where things are in the repository, and what the services' code says about configuration. */
final class Repo {
  /** The deployable environments and the tag every image in them must carry. */
  static final Map<String, String> TAG_SCHEMES = Map.of(
      "dev", "develop-[0-9a-f]{7,40}",
      "dev-cpu", "develop-[0-9a-f]{7,40}",
      "prod", "main-[0-9a-f]{7,40}");
  static final List<String> SERVICES = List.of("user-service", "payment-service", "generation-service",
      "gallery-service", "model-service", "worker");

  private Repo() {
  }

  static Path k8s() {
    return Path.of(System.getProperty("k8s.dir", "k8s")).toAbsolutePath().normalize();
  }

  static Path root() {
    return k8s().getParent();
  }

  static Path overlay(String env) {
    return k8s().resolve("overlays").resolve(env);
  }

  /** The module of a service: verticles/<name> for services, <name> for the worker. */
  static Path module(String service) {
    Path verticle = root().resolve("verticles").resolve(service);
    return Files.isDirectory(verticle) ? verticle : root().resolve(service);
  }

  /** Configuration keys the platform understands (platform-defaults.yaml). */
  static Set<String> platformKeys() {
    return keys(root().resolve("verticles/platform/src/main/resources/platform-defaults.yaml"));
  }

  /** The service's own *-defaults.yaml keys, or empty when the service has none in the repo yet. */
  static Optional<Set<String>> serviceKeys(String service) {
    Path resources = module(service).resolve("src/main/resources");
    if (!Files.isDirectory(resources)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(resources)) {
      List<Path> defaults = files.filter(p -> p.getFileName().toString().endsWith("-defaults.yaml")).toList();
      if (defaults.isEmpty()) {
        return Optional.empty();
      }
      Set<String> keys = new LinkedHashSet<>();
      defaults.forEach(p -> keys.addAll(keys(p)));
      return Optional.of(keys);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The environment variable of every key (pg.pool-size -> PINGVAS_PG_POOL_SIZE), as ConfigLoader maps them. */
  static Set<String> envNames(Set<String> keys) {
    Set<String> names = new LinkedHashSet<>();
    keys.forEach(k -> names.add("PINGVAS_" + k.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_')));
    return names;
  }

  /** The Java source of a module, for metrics that are registered only when first used. */
  static String source(String service) {
    Path src = module(service).resolve("src/main/java");
    if (!Files.isDirectory(src)) {
      return "";
    }
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        all.append(Files.readString(p)).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return all.toString();
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Set<String> keys(Path yamlFile) {
    Set<String> keys = new LinkedHashSet<>();
    flatten("", new Yaml().load(read(yamlFile)), keys);
    return keys;
  }

  /** Flattens nested maps to dotted keys exactly as ConfigLoader does. */
  private static void flatten(String prefix, Object node, Set<String> keys) {
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> flatten(prefix.isEmpty() ? k.toString() : prefix + "." + k, v, keys));
    } else if (!prefix.isEmpty()) {
      keys.add(prefix);
    }
  }
}
