package ai.pingvas.generation.http;

import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.Principal;
import io.vertx.core.Future;

/**
 * A check a submission must pass before it is stored (tier limits, the model registry, credits).
 * It refuses by failing with an {@link ai.pingvas.platform.http.ApiException}; when it holds
 * something on the job's behalf (a credit reservation) it returns how to give it back, which the
 * submit handler runs if the job ends up not stored.
 */
public interface SubmitCheck {
  /** Nothing to undo. */
  Runnable NOTHING = () -> { };

  Future<Runnable> check(Principal principal, NewJob job);
}
