package ai.pingvas.users.http;

import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ratelimit.SharedRateLimiter;
import ai.pingvas.users.UserSettings;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;

/**
 * Brute-force brakes on the unauthenticated endpoints: per client IP, and per account for password
 * logins, each counted across every replica of the service (one limiter of each, shared by its API
 * verticles).
 */
public final class AuthRateLimits {
  private final UserSettings settings;
  private final SharedRateLimiter perIp;
  private final SharedRateLimiter logins;

  /** {@code perIp} counts over one minute, {@code logins} over {@code ratelimit.login-window}. */
  public AuthRateLimits(UserSettings settings, SharedRateLimiter perIp, SharedRateLimiter logins) {
    this.settings = settings;
    this.perIp = perIp;
    this.logins = logins;
  }

  /** Route handler: at most {@code ratelimit.auth-per-ip} requests per minute from one client IP. */
  void perIp(RoutingContext ctx) {
    perIp.acquire(clientIp(ctx), settings.authPerIp()).onSuccess(decision -> {
      if (decision.allowed()) {
        ctx.next();
      } else {
        ctx.fail(ApiException.tooManyRequests("rate_limited", "too many requests from this address; retry later",
            decision.retryAfterSeconds()));
      }
    }).onFailure(ctx::fail);
  }

  /**
   * Fails with 429 once an account (named by {@code account}: its id, or the address tried when no
   * account has it) has had {@code ratelimit.login-per-account} logins in the window.
   */
  Future<Void> loginAttempt(String account) {
    return logins.acquire(account, settings.loginPerAccount()).compose(decision ->
        decision.allowed() ? Future.succeededFuture() : Future.failedFuture(ApiException.tooManyRequests(
            "rate_limited", "too many login attempts for this account; retry later", decision.retryAfterSeconds())));
  }

  private String clientIp(RoutingContext ctx) {
    if (settings.trustForwardedFor()) {
      // The last entry is the address our proxy saw; earlier ones are whatever the client sent.
      String forwarded = ctx.request().getHeader("X-Forwarded-For");
      if (forwarded != null && !forwarded.isBlank()) {
        String[] hops = forwarded.split(",");
        return hops[hops.length - 1].trim();
      }
    }
    return ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().host();
  }
}
