package ai.pingvas.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {
  private static List<String> metrics(String q) {
    return PromQl.selectors(q).stream().map(PromQl.Selector::metric).toList();
  }

  @Test
  void findsMetricsButNotFunctionsKeywordsLabelsOrDurations() {
    assertThat(metrics("histogram_quantile(0.99, sum by (le) (rate(pingvas_dispatch_latency_seconds_bucket{service=\"generation-service\"}[5m]))) or vector(0)"))
        .containsExactly("pingvas_dispatch_latency_seconds_bucket");
    assertThat(metrics("sum without (pod, instance) (a_total) / on (namespace) group_left (tier) b offset 5m > bool 1e-9"))
        .containsExactly("a_total", "b");
    assertThat(metrics("max(x) unless sum(rate(y[$__rate_interval])) > 0 and z")).containsExactly("x", "y", "z");
  }

  @Test
  void keepsEqualityMatchersEvenWhenTemplated() {
    List<PromQl.Selector> s = PromQl.selectors(
        "sum(rate(m{namespace=\"{{args.namespace}}\",code=~\"5..\",service=\"{{args.service}}\"}[2m])) / n{service=\"worker\"}");
    assertThat(s).extracting(PromQl.Selector::metric).containsExactly("m", "n");
    assertThat(s.get(0).equals()).containsEntry("service", "{{args.service}}").doesNotContainKey("code");
    assertThat(s.get(1).equals()).isEqualTo(Map.of("service", "worker"));
  }

  @Test
  void rejectsUnbalancedQueries() {
    assertThatThrownBy(() -> PromQl.selectors("sum(rate(x[5m])")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PromQl.selectors("x{a=\"b}")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void checksServiceScopedSelectorsAgainstThatServiceOnly() {
    MetricCatalog router = MetricCatalog.parse("generation-service", "test", "pingvas_jobs_running{service=\"generation-service\"} 1\n");
    MetricCatalog worker = MetricCatalog.parse("worker", "test", "# TYPE w gauge\npingvas_worker_running_jobs 0\n");
    Map<String, MetricCatalog> catalogs = Map.of(router.service(), router, worker.service(), worker);
    List<MetricCheck.Query> queries = List.of(
        new MetricCheck.Query("ok", "max(pingvas_jobs_running{service=\"generation-service\"})"),
        new MetricCheck.Query("wrong service", "pingvas_worker_running_jobs{service=\"generation-service\"}"),
        new MetricCheck.Query("any service", "pingvas_worker_running_jobs"),
        new MetricCheck.Query("lazy", "rate(pingvas_late_total{service=\"generation-service\"}[1m])"));
    assertThat(MetricCheck.check(queries, catalogs, Map.of("generation-service", Set.of("pingvas_late_total"))))
        .singleElement().asString().startsWith("wrong service: pingvas_worker_running_jobs");
  }

  @Test
  void lazyDeclarationsMustBeBuiltByTheServiceCode() {
    assertThat(MetricCheck.verifyLazy(Map.of("generation-service", Set.of("pingvas_submissions_rejected_total")))).isEmpty();
    assertThat(MetricCheck.verifyLazy(Map.of("generation-service", Set.of("pingvas_made_up_total"))))
        .singleElement().asString().contains("builds no such meter");
  }
}
