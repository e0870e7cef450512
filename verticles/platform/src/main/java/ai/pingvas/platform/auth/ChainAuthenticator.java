package ai.pingvas.platform.auth;

import ai.pingvas.platform.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The authenticator of every service: a credential shaped like a JWT is verified locally from the
 * JWK Set; anything else is an API key, checked by user-service's introspection endpoint on every
 * use (no positive cache by default, so a revoked key stops working at once everywhere).
 */
public final class ChainAuthenticator implements Authenticator {
  private final Authenticator tokens;
  private final Authenticator apiKeys;

  public ChainAuthenticator(Authenticator tokens, Authenticator apiKeys) {
    this.tokens = tokens;
    this.apiKeys = apiKeys;
  }

  /** From {@code auth.*}: jwks-url, issuer, audience, jwks-refresh, introspect-url, cache-ttl, internal-token. */
  public static ChainAuthenticator fromConfig(Vertx vertx, Config config) {
    JwtAuthenticator jwt = new JwtAuthenticator(vertx, JwksSource.http(vertx, config.string("auth.jwks-url")),
        config.string("auth.issuer"), config.string("auth.audience"), config.duration("auth.jwks-refresh"));
    IntrospectionAuthenticator keys = new IntrospectionAuthenticator(vertx, config.string("auth.introspect-url"),
        config.optionalString("auth.internal-token"), config.duration("auth.cache-ttl"));
    return new ChainAuthenticator(jwt, keys);
  }

  @Override
  public Future<Principal> authenticate(String credential) {
    return looksLikeJwt(credential) ? tokens.authenticate(credential) : apiKeys.authenticate(credential);
  }

  /** Compact JWS: three base64url segments, the first a JSON object ({@code eyJ} = base64 of <code>{"</code>). */
  public static boolean looksLikeJwt(String credential) {
    return credential.startsWith("eyJ") && credential.chars().filter(c -> c == '.').count() == 2;
  }
}
