package ai.pingvas.platform.auth;

import io.vertx.core.Future;

/** Resolves a bearer credential (API key or token) to a principal, or fails with 401. */
public interface Authenticator {
  Future<Principal> authenticate(String credential);
}
