package ai.pingvas.generation.quota;

import ai.pingvas.generation.http.SubmitCheck;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.InternalAuth;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Refuses new jobs of a user whose images already fill their tier's storage quota
 * ({@code 422 storage_quota_exceeded}), asking gallery-service (which owns storage and the quotas)
 * with the tier of the caller's principal. "Under quota" answers are kept for {@code cache-ttl};
 * gallery-service unreachable lets the job pass (the quota is a soft limit, not worth an outage).
 */
public final class StorageQuotaCheck implements SubmitCheck {
  private static final int MAX_CACHED = 10_000;
  private final WebClient client;
  private final String baseUrl;
  private final String internalToken;
  private final long cacheTtlMs;
  private final Map<String, Long> underQuotaUntil = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > MAX_CACHED;
    }
  };

  public StorageQuotaCheck(Vertx vertx, String galleryUrl, String internalToken, Duration cacheTtl) {
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(1_000).setKeepAlive(true));
    this.baseUrl = galleryUrl;
    this.internalToken = internalToken;
    this.cacheTtlMs = cacheTtl.toMillis();
  }

  @Override
  public Future<Runnable> check(Principal principal, NewJob job) {
    String key = principal.userId() + "|" + principal.tier();
    long now = System.currentTimeMillis();
    synchronized (underQuotaUntil) {
      Long until = underQuotaUntil.get(key);
      if (until != null && until > now) {
        return Future.succeededFuture(NOTHING);
      }
    }
    return client.getAbs(baseUrl + "/internal/v1/storage/" + principal.userId())
        .addQueryParam("tier", principal.tier())
        .putHeader(InternalAuth.HEADER, internalToken == null ? "" : internalToken)
        .timeout(2_000).send()
        .transform(ar -> {
          if (ar.failed() || ar.result().statusCode() != 200) {
            // let it pass, and do not ask again for a while: an unreachable gallery must not cost
            // every submission a connection attempt
            synchronized (underQuotaUntil) {
              underQuotaUntil.put(key, System.currentTimeMillis() + cacheTtlMs);
            }
            return Future.succeededFuture(NOTHING);
          }
          JsonObject usage = ar.result().bodyAsJsonObject();
          if (usage.getBoolean("over_quota", false)) {
            return Future.failedFuture(ApiException.unprocessable("storage_quota_exceeded", "your images use "
                + mib(usage.getLong("used_bytes", 0L)) + " of the " + mib(usage.getLong("quota_bytes", 0L))
                + " your " + principal.tier() + " tier stores; delete images to make room"));
          }
          synchronized (underQuotaUntil) {
            underQuotaUntil.put(key, System.currentTimeMillis() + cacheTtlMs);
          }
          return Future.succeededFuture(NOTHING);
        });
  }

  private static String mib(long bytes) {
    return (bytes / (1024 * 1024)) + " MiB";
  }
}
