package ai.pingvas.platform.tiers;

import ai.pingvas.platform.async.SingleFlight;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tier limits user-service publishes ({@code GET /internal/v1/tiers}), fetched on first use and
 * refreshed after {@code refresh}; when user-service is unreachable the last known limits stay in
 * force, so enforcement never stops because of a blip.
 */
public final class TierCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(TierCatalog.class);

  private final WebClient client;
  private final String url;
  private final String internalToken;
  private final long refreshNanos;
  private volatile Map<String, TierLimits> limits = Map.of();
  private volatile long fetchedAt;
  private final SingleFlight<Map<String, TierLimits>> fetching = new SingleFlight<>();

  public TierCatalog(Vertx vertx, String url, String internalToken, Duration refresh) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000).setKeepAlive(true));
    this.url = url;
    this.internalToken = internalToken == null ? "" : internalToken;
    this.refreshNanos = refresh.toNanos();
  }

  /** The catalog at {@code auth.tiers-url}, refreshed every {@code auth.tiers-refresh}. */
  public static TierCatalog fromConfig(Vertx vertx, Config config) {
    return new TierCatalog(vertx, config.string("auth.tiers-url"), config.optionalString("auth.internal-token"),
        config.duration("auth.tiers-refresh"));
  }

  /** The limits of a tier; an unknown tier gets the free tier's. */
  public Future<TierLimits> limits(String tier) {
    Map<String, TierLimits> known = limits;
    Future<Map<String, TierLimits>> current = !known.isEmpty() && System.nanoTime() - fetchedAt < refreshNanos
        ? Future.succeededFuture(known) : fetching.join(this::fetch);
    return current.compose(all -> {
      TierLimits found = all.getOrDefault(tier, all.get("free"));
      return found != null ? Future.succeededFuture(found)
          : Future.failedFuture(ApiException.unavailable("limits_unavailable", "tier limits are unknown", 2));
    });
  }

  private Future<Map<String, TierLimits>> fetch() {
    Map<String, TierLimits> known = limits;
    return client.getAbs(url).putHeader(InternalAuth.HEADER, internalToken)
        .timeout(3_000).send()
        .compose(response -> {
          if (response.statusCode() != 200) {
            return Future.failedFuture("tier catalog answered " + response.statusCode());
          }
          Map<String, TierLimits> parsed = new HashMap<>();
          JsonObject tiers = response.bodyAsJsonObject().getJsonObject("tiers");
          tiers.fieldNames().forEach(name -> parsed.put(name, TierLimits.fromJson(tiers.getJsonObject(name))));
          limits = Map.copyOf(parsed);
          fetchedAt = System.nanoTime();
          return Future.succeededFuture(limits);
        })
        .recover(err -> {
          LOG.warn("cannot refresh tier limits from {}: {}", url, err.toString());
          return known.isEmpty()
              ? Future.failedFuture(ApiException.unavailable("limits_unavailable", "tier limits are unknown", 2))
              : Future.succeededFuture(known);
        });
  }
}
