package ai.pingvas.platform.launch;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.EnumSet;

/** One Prometheus registry per service, with Vert.x, JVM and process meters. */
final class Metrics {
  private Metrics() {
  }

  static PrometheusMeterRegistry newRegistry(String service) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("service", service).meterFilter(VERTX_TIMER_HISTOGRAMS);
    return registry;
  }

  /**
   * Histogram buckets for Vert.x's timers (HTTP, pool and SQL latencies: what dashboards and
   * alerts take quantiles of), not for every meter: Vert.x's own switch for this also gave each
   * request/response byte-size summary and the JVM's GC meters ~70 buckets per series, which made
   * the router's {@code /metrics} 600 KB and a scrape ~100 ms of CPU.
   */
  static final MeterFilter VERTX_TIMER_HISTOGRAMS = new MeterFilter() {
    @Override
    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
      if (id.getType() == Meter.Type.TIMER && id.getName().startsWith("vertx")) {
        return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config);
      }
      return config;
    }
  };

  /** JVM and process meters; bound after Vert.x has installed its meter filters. */
  static void bindJvm(PrometheusMeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
  }

  static MicrometerMetricsOptions options() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(false)
        .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_NAME, Label.POOL_TYPE))
        // the event bus carries every worker frame and admission inside a replica: per-message,
        // per-address meter lookups cost ~5 % of a loaded router's CPU; the services' own meters
        // (dispatch, claims, outbox, events) say what those messages do
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(false));
  }
}
