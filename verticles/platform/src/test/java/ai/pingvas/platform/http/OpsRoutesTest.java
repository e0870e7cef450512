package ai.pingvas.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class OpsRoutesTest {

  @Test
  void metricsAreRenderedOffTheEventLoop() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      AtomicReference<String> renderedOn = new AtomicReference<>();
      Gauge.builder("probe", () -> {
        renderedOn.set((Context.isOnEventLoopThread() ? "event loop " : "worker ") + Thread.currentThread().getName());
        return 1;
      }).register(registry);
      Router router = Router.router(vertx);
      router.get("/metrics").handler(ctx -> OpsRoutes.scrape(ctx, registry));
      int port = vertx.createHttpServer(ServerOptions.defaults()).requestHandler(router).listen(0)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();

      HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
          .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
          type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
      assertThat(response.body()).contains("probe 1.0");
      assertThat(renderedOn.get()).startsWith("worker ");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
