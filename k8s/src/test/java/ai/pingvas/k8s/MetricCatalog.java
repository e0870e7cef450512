package ai.pingvas.k8s;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The metric names one service exports, read from Prometheus text exposition (a live /metrics or a capture). */
record MetricCatalog(String service, String origin, Set<String> names) {

  static MetricCatalog parse(String service, String origin, String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      int end = 0;
      while (end < l.length() && l.charAt(end) != '{' && l.charAt(end) != ' ') {
        end++;
      }
      names.add(l.substring(0, end));
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(origin + " holds no samples");
    }
    return new MetricCatalog(service, origin, names);
  }

  /** A capture committed under k8s/checks/metrics/<service>.prom. */
  static MetricCatalog capture(String service) {
    Path file = Repo.k8s().resolve("checks/metrics").resolve(service + ".prom");
    return parse(service, Repo.k8s().relativize(file).toString(), Repo.read(file));
  }

  /** Scrapes {baseUrl}/metrics of a running service (the dev stack's serviceUrls()). */
  static MetricCatalog scrape(String service, String baseUrl) {
    URI uri = URI.create(baseUrl.replaceAll("/$", "") + "/metrics");
    try {
      HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(uri + " answered " + response.statusCode());
      }
      return parse(service, uri.toString(), response.body());
    } catch (IOException e) {
      throw new IllegalStateException("cannot scrape " + uri + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Scrapes every service of a running stack: service name -> base URL. */
  static Map<String, MetricCatalog> scrapeAll(Map<String, String> serviceUrls) {
    Map<String, MetricCatalog> catalogs = new LinkedHashMap<>();
    serviceUrls.forEach((service, url) -> catalogs.put(service, scrape(service, url)));
    return catalogs;
  }
}
