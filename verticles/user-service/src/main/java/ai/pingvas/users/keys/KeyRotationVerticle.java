package ai.pingvas.users.keys;

import ai.pingvas.users.domain.KeyPolicy;
import ai.pingvas.users.store.SigningKeyStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the key ring current on every replica: makes the first key, makes a new one when rotation
 * is due (one replica wins, under an advisory lock), and re-reads the ring every {@code reloadEvery}
 * so a key made elsewhere is published here well before it starts signing.
 */
public final class KeyRotationVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(KeyRotationVerticle.class);

  private final SigningKeyStore store;
  private final KeyRing ring;
  private final KeyPolicy policy;
  private final Duration reloadEvery;
  private long timer = -1;
  private boolean running;

  public KeyRotationVerticle(SigningKeyStore store, KeyRing ring, KeyPolicy policy, Duration reloadEvery) {
    this.store = store;
    this.ring = ring;
    this.policy = policy;
    this.reloadEvery = reloadEvery;
  }

  @Override
  public Future<?> start() {
    return refresh().onSuccess(v -> timer = vertx.setPeriodic(reloadEvery.toMillis(), id -> {
      if (!running) {
        refresh().onFailure(err -> LOG.warn("key ring refresh failed: {}", err.toString()));
      }
    }));
  }

  /** Rotates if due, then reloads the ring. */
  public Future<Void> refresh() {
    running = true;
    return store.rotate(policy, false)
        .onSuccess(kid -> {
          if (kid != null) {
            LOG.atInfo().addKeyValue("kid", kid).log("new token signing key created");
          }
        })
        .compose(kid -> store.list())
        .onSuccess(ring::load)
        .<Void>mapEmpty()
        .onComplete(ar -> running = false);
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
