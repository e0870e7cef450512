package ai.pingvas.generation.http;

import ai.pingvas.generation.domain.JobParams;
import ai.pingvas.generation.store.NewJob;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ratelimit.SharedRateLimiter;
import ai.pingvas.platform.tiers.TierCatalog;
import io.vertx.core.Future;

/**
 * The limits of the user's tier (published by user-service) that the router enforces on each new
 * submission: requests per minute (429 with Retry-After), counted across router replicas by a
 * {@link SharedRateLimiter} over one-minute windows, and the largest width or height (422). The
 * per-user caps on queued and running jobs are the dispatcher's own admission.
 */
public final class TierLimitCheck implements SubmitCheck {
  private final TierCatalog catalog;
  private final SharedRateLimiter limiter;

  public TierLimitCheck(TierCatalog catalog, SharedRateLimiter limiter) {
    this.catalog = catalog;
    this.limiter = limiter;
  }

  @Override
  public Future<Runnable> check(Principal principal, NewJob job) {
    return catalog.limits(principal.tier()).compose(limits -> limiter.acquire(principal.userId(),
        limits.requestsPerMinute()).compose(decision -> {
      if (!decision.allowed()) {
        return Future.failedFuture(ApiException.tooManyRequests("rate_limited", "the " + limits.tier()
            + " tier allows " + limits.requestsPerMinute() + " submissions per minute (limit requests_per_minute)",
            decision.retryAfterSeconds()));
      }
      JobParams p = job.params();
      if (p.width() > limits.maxResolution() || p.height() > limits.maxResolution()) {
        return Future.failedFuture(ApiException.unprocessable("max_resolution_exceeded", "the " + limits.tier()
            + " tier allows images up to " + limits.maxResolution() + " pixels a side (limit max_resolution); "
            + "this asks for " + p.width() + "x" + p.height()));
      }
      return Future.succeededFuture(NOTHING);
    }));
  }
}
