package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.devstack.DevStack;
import ai.pingvas.testing.Http;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every metric the manifests query (analysis templates, alert rules, the dashboard, the KEDA
 * trigger) is one the running services really export: the dev stack is started, one job is driven
 * through it so lazily registered meters exist, and every service's live /metrics is scraped.
 */
class LiveMetricsIT {

  @Test
  void everyQueriedMetricIsExportedByTheRunningServices() throws Exception {
    Path data = Files.createTempDirectory("pingvas-k8s-metrics");
    try (DevStack stack = DevStack.start(new DevStack.Options(data, 0, 1, false, Map.of()))) {
      runOneJob(stack);
      Map<String, MetricCatalog> live = MetricCatalog.scrapeAll(stack.serviceUrls());
      assertThat(live).containsKeys("generation-service", "gallery-service", "worker");
      for (String target : List.of("dev", "prod", "infra")) {
        Rendered rendered = ManifestChecksTest.rendered(target);
        assertThat(MetricCheck.check(MetricCheck.queries(rendered), live, MetricCheck.lazyMetrics()))
            .as("queries in %s that no running service exports", target).isEmpty();
      }
    }
  }

  private static void runOneJob(DevStack stack) throws Exception {
    HttpClient http = Http.client();
    HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/generations"))
        .header("Authorization", "Bearer " + stack.devApiKey()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"sd-1.5\",\"prompt\":\"metrics\",\"steps\":2,"
            + "\"width\":64,\"height\":64}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String id = new io.vertx.core.json.JsonObject(submitted.body()).getString("id");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      String job = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/generations/" + id))
          .header("Authorization", "Bearer " + stack.devApiKey()).build(), HttpResponse.BodyHandlers.ofString()).body();
      if (job.contains("\"status\":\"succeeded\"")) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the job did not succeed");
  }
}
