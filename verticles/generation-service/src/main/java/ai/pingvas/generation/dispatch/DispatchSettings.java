package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.domain.SchedulerSettings;
import ai.pingvas.generation.domain.Tier;
import ai.pingvas.generation.store.Backoff;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Settings of the dispatcher, from configuration. {@code claimAhead}: a busy worker's next job is
 * claimed this long before its running job is expected to end, and sent the moment it ends (0 = off).
 * {@code resultsInFlight}: result updates being written at once; results arriving meanwhile wait and
 * go in the next one together.
 */
public record DispatchSettings(String routerId, Map<String, Tier> tiers, SchedulerSettings policy, int maxQueuedGlobal,
    long retryAfterSeconds, Duration executionTimeout, Duration heartbeatInterval, Duration heartbeatTimeout,
    Duration reconnectGrace, Duration progressInterval, Backoff backoff, Set<String> deterministicCodes,
    Duration claimAhead, int resultsInFlight) {
}
