package ai.pingvas.platform.async;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/** Keeping continuations on the event loop that asked for them. */
public final class Contexts {
  private Contexts() {
  }

  /**
   * The outcome of {@code shared} (a fetch several callers join) delivered on the caller's context.
   *
   * <p>A Vert.x future runs its listeners on the context that created it. A caller on another event
   * loop that joined it would otherwise continue its request there, on a thread that does not own
   * the caller's state: a submission doing so once corrupted its verticle's group commit, so one
   * request never got an answer.
   */
  public static <T> Future<T> onCaller(Future<T> shared) {
    Context caller = Vertx.currentContext();
    if (caller == null || shared.isComplete()) {
      return shared;
    }
    Promise<T> here = Promise.promise();
    shared.onComplete(ar -> {
      if (Vertx.currentContext() == caller) {
        here.handle(ar);
      } else {
        caller.runOnContext(v -> here.handle(ar));
      }
    });
    return here.future();
  }
}
