package ai.pingvas.users.http;

import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ratelimit.KeyedRateLimiter;
import ai.pingvas.users.UserSettings;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Locale;

/** Brute-force brakes on the unauthenticated endpoints: per client IP, and per account for password logins. */
final class AuthRateLimits {
  private final KeyedRateLimiter limiter = new KeyedRateLimiter(100_000);
  private final UserSettings settings;

  AuthRateLimits(UserSettings settings) {
    this.settings = settings;
  }

  /** Route handler: at most {@code ratelimit.auth-per-ip} requests per minute from one client IP. */
  void perIp(RoutingContext ctx) {
    KeyedRateLimiter.Decision decision = limiter.tryAcquire("ip:" + clientIp(ctx), settings.authPerIp(),
        Duration.ofMinutes(1));
    if (decision.allowed()) {
      ctx.next();
    } else {
      ctx.fail(ApiException.tooManyRequests("rate_limited", "too many requests from this address; retry later",
          decision.retryAfterSeconds()));
    }
  }

  /** Fails with 429 once an account has had {@code ratelimit.login-per-account} logins in the window. */
  void loginAttempt(String email) {
    KeyedRateLimiter.Decision decision = limiter.tryAcquire("account:" + email.toLowerCase(Locale.ROOT),
        settings.loginPerAccount(), settings.loginWindow());
    if (!decision.allowed()) {
      throw ApiException.tooManyRequests("rate_limited", "too many login attempts for this account; retry later",
          decision.retryAfterSeconds());
    }
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
