package ai.pingvas.payments.http;

import ai.pingvas.platform.auth.InternalAuth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/** Tells user-service a user's new tier (subscriptions); any answer but 200 fails, so the webhook is retried. */
public final class TierClient {
  private final WebClient client;
  private final String usersUrl;
  private final String internalToken;

  public TierClient(Vertx vertx, String usersUrl, String internalToken) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000).setKeepAlive(true));
    this.usersUrl = usersUrl;
    this.internalToken = internalToken == null ? "" : internalToken;
  }

  public Future<Void> setTier(String userId, String tier) {
    return client.putAbs(usersUrl + "/internal/v1/users/" + userId + "/tier")
        .putHeader(InternalAuth.HEADER, internalToken).timeout(5_000)
        .sendJsonObject(new JsonObject().put("tier", tier))
        .compose(response -> response.statusCode() == 200 ? Future.<Void>succeededFuture()
            : Future.failedFuture("user-service answered " + response.statusCode() + " to a tier change"));
  }
}
