package ai.pingvas.platform.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.List;

/** Where a {@link JwtAuthenticator} gets the public keys (JWKs) that may have signed a token. */
@FunctionalInterface
public interface JwksSource {
  Future<List<JsonObject>> keys();

  /** The JWK Set document at {@code url} ({@code {"keys": [...]}}), fetched over HTTP. */
  static JwksSource http(Vertx vertx, String url) {
    WebClient client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000).setKeepAlive(true));
    return () -> client.getAbs(url).timeout(3_000).send().compose(response -> {
      if (response.statusCode() != 200) {
        return Future.failedFuture("JWKS " + url + " answered " + response.statusCode());
      }
      JsonObject body = response.bodyAsJsonObject();
      return Future.succeededFuture(body.getJsonArray("keys").stream().map(JsonObject.class::cast).toList());
    });
  }
}
