package ai.pingvas.platform.launch;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  void vertxTimersGetHistogramBucketsAndByteSizesAndGcMetersDoNot() {
    PrometheusMeterRegistry registry = Metrics.newRegistry("test");
    Timer.builder("vertx.http.server.response.time").register(registry).record(Duration.ofMillis(3));
    DistributionSummary.builder("vertx.http.server.request.bytes").baseUnit("bytes").register(registry).record(120);
    Timer.builder("jvm.gc.pause").register(registry).record(Duration.ofMillis(1));

    String text = registry.scrape();
    assertThat(text).contains("vertx_http_server_response_time_seconds_bucket{");
    assertThat(text).contains("vertx_http_server_request_bytes_count{");
    assertThat(text).doesNotContain("vertx_http_server_request_bytes_bucket");
    assertThat(text).contains("jvm_gc_pause_seconds_count{").doesNotContain("jvm_gc_pause_seconds_bucket");
    assertThat(Metrics.options().getPrometheusOptions().isPublishQuantiles()).isFalse();
  }
}
