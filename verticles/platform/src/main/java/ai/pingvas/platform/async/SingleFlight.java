package ai.pingvas.platform.async;

import io.vertx.core.Future;
import java.util.function.Supplier;

/**
 * One fetch at a time that concurrent callers share (key sets, catalogs, registries), each answered
 * on its own event loop ({@link Contexts#onCaller}): callers may sit on different verticles' loops,
 * and a shared future would otherwise run all of them on the loop that started the fetch.
 */
public final class SingleFlight<T> {
  private Future<T> inflight;

  /** The fetch in progress, joined; null when none is. */
  public synchronized Future<T> inProgress() {
    return inflight == null ? null : Contexts.onCaller(inflight);
  }

  /** Joins the fetch in progress, or starts one with {@code start}. */
  public synchronized Future<T> join(Supplier<Future<T>> start) {
    if (inflight != null) {
      return Contexts.onCaller(inflight);
    }
    Future<T> fetch = start.get();
    inflight = fetch;
    fetch.onComplete(ar -> {
      synchronized (this) {
        if (inflight == fetch) {
          inflight = null;
        }
      }
    });
    return Contexts.onCaller(fetch);
  }
}
