package ai.pingvas.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServerOptionsTest {
  private static final String BODY = "# HELP pingvas_metric a line\n".repeat(20_000);
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private int serve(HttpServerOptions options) throws Exception {
    HttpServer server = vertx.createHttpServer(options).requestHandler(req -> req.response()
        .putHeader("Content-Type", "text/plain").end(BODY));
    return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
        .actualPort();
  }

  private static HttpResponse<String> get(int port) throws Exception {
    // the JDK client's default: HTTP/2, offered to a cleartext server as an "Upgrade: h2c" request
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aClientAskingForTheH2cUpgradeIsAnsweredInHttp11WithTheWholeBody() throws Exception {
    int port = serve(ServerOptions.defaults());
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> response = get(port);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
      assertThat(response.body()).isEqualTo(BODY);
    }
  }

  @Test
  void theVertxDefaultWouldAcceptTheUpgrade() throws Exception {
    int port = serve(new HttpServerOptions());
    assertThat(get(port).version()).as("what ServerOptions turns off").isEqualTo(HttpClient.Version.HTTP_2);
  }
}
