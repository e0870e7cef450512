package ai.pingvas.generation.models;

import ai.pingvas.generation.models.ModelRules.Entry;
import ai.pingvas.platform.async.Contexts;
import ai.pingvas.platform.async.SingleFlight;
import ai.pingvas.platform.auth.InternalAuth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's copy of the model registry, fetched from model-service's
 * {@code GET /internal/v1/models} every {@code refresh-interval} and, on a name it does not know,
 * at most once per {@code miss-refresh-min}. Safe from any event loop: the snapshot is immutable and
 * concurrent refreshes share one request. A failed refresh keeps the last snapshot.
 */
public final class ModelCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);

  /** The registry as of {@code loadedAtMs}. */
  public record Snapshot(Map<String, Entry> models, long loadedAtMs) {
  }

  private final Vertx vertx;
  private final WebClient client;
  private final String url;
  private final String internalToken;
  private final long timeoutMs;
  private final long missRefreshMinMs;
  private volatile Snapshot snapshot;
  private final SingleFlight<Snapshot> fetching = new SingleFlight<>();
  private Future<Snapshot> scheduled;
  private volatile long lastAttemptMs;
  private long lastWarnMs;
  private volatile long lastFailureMs;
  private long timer = -1;

  public ModelCatalog(Vertx vertx, String baseUrl, String internalToken, Duration timeout, Duration missRefreshMin) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout((int) timeout.toMillis())
        .setKeepAlive(true));
    this.url = baseUrl + "/internal/v1/models";
    this.internalToken = internalToken;
    this.timeoutMs = timeout.toMillis();
    this.missRefreshMinMs = missRefreshMin.toMillis();
  }

  /** Fetches now and then every {@code interval}, without waiting: a model-service outage never delays start-up. */
  public void startRefreshing(Duration interval) {
    refresh();
    timer = vertx.setPeriodic(Math.max(1_000, interval.toMillis()), id -> refresh());
  }

  /** The newest registry this replica has, or null before the first successful fetch. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Where the registry keeps the named model's weights, or null (unknown, no source, or no copy yet). */
  public String sourceOf(String name) {
    Snapshot current = snapshot;
    Entry entry = current == null ? null : current.models().get(name);
    return entry == null ? null : entry.source();
  }

  /** True when a fetch failed within {@code miss-refresh-min}: callers without a copy should not wait on another. */
  public boolean failedRecently() {
    return System.currentTimeMillis() - lastFailureMs < missRefreshMinMs;
  }

  /** Fetches the registry now (joining a fetch in progress); fails if model-service does not answer. */
  public Future<Snapshot> refresh() {
    return fetching.join(this::fetch);
  }

  private Future<Snapshot> fetch() {
    lastAttemptMs = System.currentTimeMillis();
    return client.getAbs(url).putHeader(InternalAuth.HEADER, internalToken == null ? "" : internalToken)
        .timeout(timeoutMs).send().compose(response -> {
          if (response.statusCode() != 200) {
            return Future.failedFuture("model-service answered " + response.statusCode());
          }
          JsonArray items = response.bodyAsJsonObject().getJsonArray("items", new JsonArray());
          Map<String, Entry> models = new LinkedHashMap<>();
          for (int i = 0; i < items.size(); i++) {
            JsonObject item = items.getJsonObject(i);
            models.put(item.getString("name"), new Entry(item.getString("name"), item.getString("kind"),
                item.getString("base"), item.getString("source")));
          }
          Snapshot fresh = new Snapshot(Map.copyOf(models), System.currentTimeMillis());
          snapshot = fresh;
          return Future.succeededFuture(fresh);
        }).onFailure(err -> {
          lastFailureMs = System.currentTimeMillis();
          warn(err);
        });
  }

  /**
   * A fetch because a name was unknown. Fetches start at most once per {@code miss-refresh-min}, so
   * a burst of bad names costs model-service one request; a miss inside that window waits for the
   * next fetch rather than being judged on a copy older than itself.
   */
  public synchronized Future<Snapshot> refreshOnMiss() {
    Future<Snapshot> joined = fetching.inProgress();
    if (joined != null) {
      return joined;
    }
    long wait = lastAttemptMs + missRefreshMinMs - System.currentTimeMillis();
    if (wait <= 0) {
      return refresh();
    }
    if (scheduled == null) {
      scheduled = vertx.timer(wait).compose(v -> {
        synchronized (this) {
          scheduled = null;
        }
        return refresh();
      });
    }
    return Contexts.onCaller(scheduled);
  }

  private void warn(Throwable cause) {
    long now = System.currentTimeMillis();
    if (now - lastWarnMs > 30_000) {
      lastWarnMs = now;
      Snapshot current = snapshot;
      LOG.atWarn().addKeyValue("url", url).addKeyValue("error", String.valueOf(cause.getMessage()))
          .addKeyValue("snapshot_age_s", current == null ? null : (now - current.loadedAtMs()) / 1000)
          .log("cannot refresh the model registry; submissions use the last copy (or pass unchecked without one)");
    }
  }

  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    client.close();
  }
}
