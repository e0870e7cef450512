package ai.pingvas.generation;

import ai.pingvas.generation.dispatch.DispatchSettings;
import ai.pingvas.generation.dispatch.JanitorVerticle;
import ai.pingvas.generation.domain.SchedulerSettings;
import ai.pingvas.generation.domain.Tier;
import ai.pingvas.generation.store.Backoff;
import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.Host;
import ai.pingvas.platform.config.ConfigException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** generation-service configuration, typed and checked once at start. */
public record GenerationSettings(String routerId, DispatchSettings dispatch, JanitorVerticle.Settings janitor) {
  public static final String DEV_USER_ID = "00000000-0000-4000-8000-00000000d0e1";
  /** Worker failure codes another attempt would only repeat: never retried. */
  static final Set<String> DETERMINISTIC = Set.of("bad_request", "unknown_model", "invalid_params",
      "model_incompatible");

  public static GenerationSettings from(Config config) {
    // Every process start is a new replica identity: jobs of a previous incarnation are recovered
    // through worker adoption or the lease reaper, never mistaken for this process's own.
    String routerId = Host.replicaId(config.optionalString("router.id"), "router");
    Map<String, Tier> tiers = new LinkedHashMap<>();
    for (String name : new String[] {"free", "pro", "studio"}) {
      tiers.put(name, new Tier(name, config.decimal("tiers." + name + ".weight"),
          config.integer("tiers." + name + ".max-running"), config.integer("tiers." + name + ".max-queued")));
    }
    if (config.optionalString("workers.token") == null) {
      throw new ConfigException("workers.token (PINGVAS_WORKERS_TOKEN) must be set: workers authenticate with it");
    }
    SchedulerSettings policy = new SchedulerSettings(config.duration("scheduler.affinity-max-wait").toMillis(),
        config.duration("scheduler.model-load-estimate").toMillis(),
        config.duration("scheduler.step-estimate").toMillis(), config.integer("scheduler.models-per-worker"));
    Backoff backoff = new Backoff(config.duration("retry.backoff-base"), config.duration("retry.backoff-max"));
    DispatchSettings dispatch = new DispatchSettings(routerId, tiers, policy, config.integer("queue.max-global"),
        config.duration("queue.retry-after").toSeconds(), config.duration("execution.timeout"),
        config.duration("workers.heartbeat-interval"), config.duration("workers.heartbeat-timeout"),
        config.duration("workers.reconnect-grace"), config.duration("progress.min-interval"),
        backoff, DETERMINISTIC, config.duration("scheduler.claim-ahead"),
        config.integer("queue.results-in-flight", 1));
    String advertise = config.optionalString("router.advertise-url");
    if (advertise == null) {
      advertise = "http://" + Host.name("router") + ":" + config.integer("http.port");
    }
    JanitorVerticle.Settings janitor = new JanitorVerticle.Settings(routerId, advertise,
        config.duration("workers.router-lease"),
        config.duration("queue.ttl"), config.duration("execution.timeout"), backoff);
    return new GenerationSettings(routerId, dispatch, janitor);
  }
}
