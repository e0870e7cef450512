package ai.pingvas.worker.engine;

import java.util.ArrayList;
import java.util.List;

/** Set when the router cancels an attempt (or the worker abandons it); engines check it every step. */
public final class CancelSignal {
  private volatile boolean canceled;
  private final List<Runnable> listeners = new ArrayList<>();

  public boolean canceled() {
    return canceled;
  }

  public void cancel() {
    List<Runnable> toRun;
    synchronized (listeners) {
      if (canceled) {
        return;
      }
      canceled = true;
      toRun = List.copyOf(listeners);
    }
    toRun.forEach(Runnable::run);
  }

  /** Runs {@code action} on cancel (at once if already canceled). */
  public void onCancel(Runnable action) {
    synchronized (listeners) {
      if (!canceled) {
        listeners.add(action);
        return;
      }
    }
    action.run();
  }

  /** Throws if canceled: call between steps. */
  public void check() {
    if (canceled) {
      throw EngineException.canceled();
    }
  }
}
