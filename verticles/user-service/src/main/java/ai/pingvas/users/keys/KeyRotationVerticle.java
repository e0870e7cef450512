package ai.pingvas.users.keys;

import ai.pingvas.platform.async.Contexts;
import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.store.SigningKeyStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the key ring current on every replica: makes the first key, makes a new one when rotation
 * is due (one replica wins, under an advisory lock), and re-reads the ring when another replica
 * notifies a change ({@link SigningKeyStore#CHANGES_CHANNEL}: a key retired on one replica stops
 * verifying and leaves the JWK Set of every replica within a moment, not at its next reload) and
 * every {@code reloadEvery}, which also covers notifications missed while the LISTEN connection was
 * down (it reconnects every second after losing it, retries a first connection every 5 s, and
 * reloads whenever it listens again).
 */
public final class KeyRotationVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(KeyRotationVerticle.class);

  private final SigningKeyStore store;
  private final KeyRing ring;
  private final KeyPolicy policy;
  private final Duration reloadEvery;
  private final PgConnectOptions listenOn;
  private long timer = -1;
  private boolean running;
  private PgSubscriber subscriber;
  private long listenRetry = -1;
  private boolean stopped;
  /** The last reload: reloads run one after another, so an older read never replaces a newer one. */
  private Future<Void> reloads = Future.succeededFuture();

  /** {@code listenOn}: where to LISTEN for changes made by other replicas (null: periodic reloads only). */
  public KeyRotationVerticle(SigningKeyStore store, KeyRing ring, KeyPolicy policy, Duration reloadEvery,
      PgConnectOptions listenOn) {
    this.store = store;
    this.ring = ring;
    this.policy = policy;
    this.reloadEvery = reloadEvery;
    this.listenOn = listenOn;
  }

  @Override
  public Future<?> start() {
    if (listenOn != null) {
      subscriber = PgSubscriber.subscriber(vertx, listenOn).reconnectPolicy(retries -> 1_000L);
      subscriber.channel(SigningKeyStore.CHANGES_CHANNEL)
          .subscribeHandler(v -> reload("listening"))
          .handler(this::reload);
      listen();
    }
    return refresh().onSuccess(v -> timer = vertx.setPeriodic(reloadEvery.toMillis(), id -> {
      if (!running) {
        refresh().onFailure(err -> LOG.warn("key ring refresh failed: {}", err.toString()));
      }
    }));
  }

  /** Connects the LISTEN (its reconnect policy covers a connection lost later; this, a first one that fails). */
  private void listen() {
    subscriber.connect().onFailure(err -> {
      LOG.warn("cannot LISTEN for key changes, retrying in 5 s (reloading every {} meanwhile): {}", reloadEvery,
          err.toString());
      if (!stopped) {
        listenRetry = vertx.setTimer(5_000, id -> listen());
      }
    });
  }

  /** Re-reads the ring after a change notified by a replica (or after (re)connecting to listen). */
  private void reload(String why) {
    load().onSuccess(v -> LOG.atDebug().addKeyValue("change", why).log("key ring reloaded"))
        .onFailure(err -> LOG.warn("key ring reload after '{}' failed (the periodic reload retries): {}", why,
            err.toString()));
  }

  /**
   * Reads the ring and loads it, after every read started before has been loaded: reads run one after
   * another, so an older read (e.g. a periodic one sent before a retirement committed) never replaces
   * a newer one. On this verticle's context.
   */
  private Future<Void> load() {
    Future<Void> next = reloads.transform(ar -> store.list().onSuccess(ring::load).mapEmpty());
    reloads = next.recover(err -> Future.succeededFuture());
    return next;
  }

  /** Rotates if due, then reloads the ring; from any context (e.g. the admin API's), run on this verticle's. */
  public Future<Void> refresh() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      running = true;
      store.rotate(policy, false)
          .onSuccess(kid -> {
            if (kid != null) {
              LOG.atInfo().addKeyValue("kid", kid).log("new token signing key created");
            }
          })
          .compose(kid -> load())
          .onComplete(ar -> running = false)
          .onComplete(done);
    });
    return Contexts.onCaller(done.future());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    vertx.cancelTimer(listenRetry);
    return subscriber == null ? Future.succeededFuture() : subscriber.close();
  }
}
