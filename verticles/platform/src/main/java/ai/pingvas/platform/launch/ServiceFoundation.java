package ai.pingvas.platform.launch;

import ai.pingvas.platform.db.ConnectionWatch;
import ai.pingvas.platform.db.Database;
import ai.pingvas.platform.http.Contracts;
import ai.pingvas.platform.kafka.KafkaSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.sqlclient.Pool;
import java.util.List;

/**
 * What every service stands on, set up the same way: Flyway migrations (when {@code pg.migrate}),
 * its Kafka topics, its OpenAPI contract, the Postgres pool, and readiness checks of Postgres and
 * (when it uses Kafka) the broker. Everything opened here is closed with the runtime.
 */
public record ServiceFoundation(Database database, ConnectionWatch watch, Pool pool, Contracts.Loaded contract) {
  private static final long PROBE_REFRESH_MS = 1_000;

  /** A service that uses Postgres only. */
  public static Future<ServiceFoundation> prepare(ServiceRuntime runtime, ServiceMain.Descriptor descriptor,
      String contractPath) {
    return prepare(runtime, descriptor, contractPath, null, List.of());
  }

  /**
   * A service that also uses Kafka: its {@code topics} exist before anything else starts, and
   * readiness fails while the broker cannot be described.
   */
  public static Future<ServiceFoundation> prepare(ServiceRuntime runtime, ServiceMain.Descriptor descriptor,
      String contractPath, KafkaSettings kafka, List<String> topics) {
    Vertx vertx = runtime.vertx();
    Database database = Database.fromConfig(runtime.config());
    Future<Integer> migrated = runtime.config().bool("pg.migrate")
        ? database.migrate(vertx, descriptor.migrations()) : Future.succeededFuture(0);
    return migrated
        .compose(n -> kafka == null || topics.isEmpty() ? Future.<Void>succeededFuture()
            : kafka.ensureTopics(vertx, topics))
        .compose(v -> Contracts.load(vertx, contractPath))
        .map(contract -> {
          ConnectionWatch watch = database.watch(runtime.registry());
          Pool pool = database.pool(vertx, watch);
          runtime.onClose(pool::close);
          runtime.probes().register("postgres", () -> pool.query("SELECT 1").execute());
          if (kafka != null) {
            KafkaAdminClient admin = KafkaAdminClient.create(vertx, kafka.admin());
            runtime.onClose(admin::close);
            runtime.probes().register("kafka", admin::describeCluster);
          }
          runtime.probes().startRefreshing(PROBE_REFRESH_MS);
          return new ServiceFoundation(database, watch, pool, contract);
        });
  }
}
