package ai.pingvas.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.pgclient.PgConnectOptions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseOptionsTest {
  private static Config config(String planCacheMode, String statementTimeout) {
    return config(planCacheMode, statementTimeout, "60s");
  }

  private static Config config(String planCacheMode, String statementTimeout, String responseTimeout) {
    Map<String, Object> values = new HashMap<>(Map.of("pg.url", "postgresql://db:5432/pingvas", "pg.user", "u",
        "pg.password", "p", "pg.schema", "generation", "pg.pool-size", 4));
    values.put("pg.plan-cache-mode", planCacheMode);
    values.put("pg.statement-timeout", statementTimeout);
    values.put("pg.response-timeout", responseTimeout);
    return Config.of(values);
  }

  @Test
  void connectionsCarryThePlanCacheModeAndCacheLongStatements() {
    PgConnectOptions options = Database.fromConfig(config("force_generic_plan", "30s")).connectOptions();
    assertThat(options.getProperties()).containsEntry("plan_cache_mode", "force_generic_plan")
        .containsEntry("statement_timeout", "30000").containsEntry("search_path", "generation");
    assertThat(options.getCachePreparedStatements()).isTrue();
    // the router's submission insert is ~2,300 characters; the client's default limit is 2,048
    assertThat(options.getPreparedStatementCacheSqlFilter().test("SELECT " + "x".repeat(2_400))).isTrue();
  }

  @Test
  void theDefaultsLeaveTheServersSettingsAlone() {
    PgConnectOptions options = Database.fromConfig(config("auto", "0s")).connectOptions();
    assertThat(options.getProperties()).doesNotContainKeys("plan_cache_mode", "statement_timeout");
  }

  @Test
  void anUnknownPlanCacheModeIsRefused() {
    assertThatThrownBy(() -> Database.fromConfig(config("generic", "0s"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("pg.plan-cache-mode");
  }

  @Test
  void aResponseTimeoutNoLongerThanTheStatementTimeoutIsRefused() {
    // the server sends nothing while it runs a statement: a watchdog this short would cut it off
    assertThatThrownBy(() -> Database.fromConfig(config("auto", "30s", "30s"))).isInstanceOf(ConfigException.class)
        .hasMessageContaining("pg.response-timeout").hasMessageContaining("pg.statement-timeout");
    assertThat(Database.fromConfig(config("auto", "30s", "31s")).watch(new SimpleMeterRegistry()).responseTimeout())
        .hasSeconds(31);
    assertThat(Database.fromConfig(config("auto", "30s", "0s")).watch(new SimpleMeterRegistry()).responseTimeout())
        .as("0s turns it off").isZero();
  }
}
