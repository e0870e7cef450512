package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.domain.SchedulerSettings;
import ai.pingvas.generation.domain.Tier;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/** Settings of the dispatcher, from configuration. */
public record DispatchSettings(String routerId, Map<String, Tier> tiers, SchedulerSettings policy, int maxQueuedGlobal,
    long retryAfterSeconds, Duration executionTimeout, Duration heartbeatInterval, Duration heartbeatTimeout,
    Duration reconnectGrace, Duration progressInterval, Duration backoffBase, Set<String> deterministicCodes) {
}
