package ai.pingvas.generation.dispatch;

import ai.pingvas.generation.store.Backoff;
import ai.pingvas.generation.store.JobStore;
import ai.pingvas.generation.store.Transition;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Periodic safety nets, run by every replica (each statement is idempotent and skips rows another
 * replica holds): renews this replica's lease, re-queues the jobs of replicas whose lease lapsed,
 * fails jobs queued past {@code queue.ttl}, and ends this replica's attempts that ran past
 * {@code execution.timeout}. Their events reach the dispatchers through Kafka like any other.
 */
public final class JanitorVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(JanitorVerticle.class);

  /** What the janitor needs from configuration. */
  public record Settings(String routerId, String advertiseUrl, Duration routerLease, Duration queueTtl,
      Duration executionTimeout, Backoff backoff) {
  }

  private final JobStore store;
  private final Settings settings;
  private long leaseTimer;
  private long sweepTimer;
  private boolean sweeping;
  /** Since when our own lease renewals have succeeded without a gap (0 = not now). */
  private long renewingSinceMs;

  public JanitorVerticle(JobStore store, Settings settings) {
    this.store = store;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    long leaseEvery = Math.max(250, settings.routerLease().toMillis() / 4);
    leaseTimer = vertx.setPeriodic(leaseEvery, id -> renew());
    sweepTimer = vertx.setPeriodic(1_000, id -> sweep());
    return store.renewRouterLease(settings.routerId(), settings.routerLease(), settings.advertiseUrl())
        .onSuccess(v -> renewingSinceMs = System.currentTimeMillis());
  }

  private void renew() {
    store.renewRouterLease(settings.routerId(), settings.routerLease(), settings.advertiseUrl()).onComplete(ar -> {
      if (ar.succeeded()) {
        if (renewingSinceMs == 0) {
          renewingSinceMs = System.currentTimeMillis();
        }
      } else {
        renewingSinceMs = 0;
        LOG.warn("could not renew the router lease: {}", ar.cause().toString());
      }
    });
  }

  /**
   * Another replica's lapsed lease means it is dead only if we have been able to renew ours for a
   * whole lease period: after a Postgres outage every lease has lapsed, and the live replicas must
   * get the time to renew before anyone's jobs are taken away.
   */
  private boolean mayReap() {
    return renewingSinceMs > 0 && System.currentTimeMillis() - renewingSinceMs > settings.routerLease().toMillis();
  }

  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    run("lapsed routers", () -> mayReap() ? store.reapLapsedRouters(settings.routerId(), settings.backoff())
        : Future.succeededFuture(List.<Transition>of()))
        .compose(v -> run("queue ttl", () -> store.expireQueued(settings.queueTtl())))
        .compose(v -> run("execution timeout", () -> store.expireRunning(settings.routerId(),
            settings.executionTimeout(), settings.backoff())))
        .onComplete(ar -> sweeping = false);
  }

  private Future<Void> run(String what, Supplier<Future<List<Transition>>> step) {
    return step.get().map(done -> {
      if (!done.isEmpty()) {
        LOG.atInfo().addKeyValue("sweep", what).addKeyValue("jobs", done.size()).log("janitor ended jobs");
      }
      return (Void) null;
    }).recover(err -> {
      LOG.atWarn().addKeyValue("sweep", what).addKeyValue("error", err.toString()).log("janitor sweep failed");
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(leaseTimer);
    vertx.cancelTimer(sweepTimer);
    return Future.succeededFuture();
  }
}
