package ai.pingvas.devstack;

import ai.pingvas.platform.http.ServerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.Router;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.ext.web.proxy.handler.ProxyHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One port for the whole dev stack, routing by path prefix like the production Ingress does
 * (WebSockets included). Internal routes are never exposed.
 */
final class Gateway {
  private final Vertx vertx;
  private final Map<String, Integer> routes = new LinkedHashMap<>();
  private HttpServer server;

  Gateway(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Sends requests whose path starts with {@code prefix} (exactly {@code /} for "/") to the service on {@code port}. */
  Gateway route(String prefix, int port) {
    routes.put(prefix, port);
    return this;
  }

  Future<HttpServer> listen(int port) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    Router router = Router.router(vertx);
    router.route("/internal/*").handler(ctx -> ctx.response().setStatusCode(404).end());
    routes.forEach((prefix, target) -> {
      HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client);
      // "/" is exact (the Studio's redirect); every other prefix covers the paths below it.
      router.route(prefix.equals("/") || prefix.endsWith("*") ? prefix : prefix + "*").handler(ProxyHandler.create(proxy, target,
          "127.0.0.1"));
    });
    server = vertx.createHttpServer(ServerOptions.defaults());
    return server.requestHandler(router).listen(port, "0.0.0.0");
  }

  Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
