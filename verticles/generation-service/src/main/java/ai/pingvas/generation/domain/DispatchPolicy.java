package ai.pingvas.generation.domain;

import java.util.List;

/**
 * Decides which queued jobs run on which free worker slots. Implementations take jobs out of the
 * queue ({@link FairQueue#serve}) and occupy worker slots ({@link WorkerView#start}) as they decide,
 * so the router and the fleet simulator drive exactly the same logic.
 */
public interface DispatchPolicy {
  List<Assignment> decide(FairQueue queue, Fleet fleet, long now);

  /** The policy named in configuration: {@code affinity} (ours) or a baseline. */
  static DispatchPolicy named(String name, SchedulerSettings settings) {
    return switch (name) {
      case "affinity" -> affinity(settings);
      case "round-robin" -> roundRobin(settings);
      case "least-loaded" -> leastLoaded(settings);
      default -> throw new IllegalArgumentException("unknown scheduler policy '" + name
          + "' (affinity, round-robin or least-loaded)");
    };
  }

  /** Our policy: fair between users, model-affine with aging. */
  static DispatchPolicy affinity(SchedulerSettings settings) {
    return new AffinityPolicy(settings);
  }

  /** Baseline: fair job order, workers taken in rotation regardless of models. */
  static DispatchPolicy roundRobin(SchedulerSettings settings) {
    return new BaselinePolicy(settings, false);
  }

  /** Baseline: fair job order, the least busy worker regardless of models. */
  static DispatchPolicy leastLoaded(SchedulerSettings settings) {
    return new BaselinePolicy(settings, true);
  }
}
