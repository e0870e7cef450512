package ai.pingvas.models.store;

import ai.pingvas.models.domain.Model;
import ai.pingvas.models.domain.WorkerEvent;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The registry and the workers' holdings in Postgres. */
public interface ModelStore {
  /** Models matching the filters (null = any), by name. */
  Future<List<Model>> list(String kind, String base);

  /** The model, or null. */
  Future<Model> get(String name);

  /** Inserts a model; false if the name is taken. */
  Future<Boolean> create(Model model);

  /** Inserts the models whose names are free; returns how many were new. */
  Future<Integer> createMissing(List<Model> models);

  /** Replaces a model's fields; null if there is no such model. */
  Future<Model> update(Model model);

  /** Removes a model; false if there was none. */
  Future<Boolean> delete(String name);

  /** Applies worker events in order: seen upserts (never over a newer row), gone drops that connection. */
  Future<Void> apply(List<WorkerEvent> events);

  /** Model name to the workers heard of within {@code ttl} that hold it. */
  Future<Map<String, List<String>>> holders(Duration ttl);

  /** Forgets workers not heard of for {@code age}; returns how many. */
  Future<Integer> prune(Duration age);
}
