package ai.pingvas.users.http;

import ai.pingvas.users.UserSettings;
import ai.pingvas.users.keys.KeyRing;
import ai.pingvas.users.keys.KeyRotationVerticle;
import ai.pingvas.users.store.SigningKeyStore;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The public JWK Set and the operator's "rotate now". */
final class KeyHandlers {
  private final KeyRing ring;
  private final SigningKeyStore store;
  private final KeyRotationVerticle rotation;
  private final UserSettings settings;

  KeyHandlers(KeyRing ring, SigningKeyStore store, KeyRotationVerticle rotation, UserSettings settings) {
    this.ring = ring;
    this.store = store;
    this.rotation = rotation;
    this.settings = settings;
  }

  void jwks(RoutingContext ctx) {
    // Short public caching: verifiers also refetch on an unknown kid, so new keys are never missed for long.
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "public, max-age=60")
        .end(ring.jwks().encode());
  }

  void rotate(RoutingContext ctx) {
    store.rotate(settings.keyPolicy(), true)
        .compose(kid -> rotation.refresh().map(v -> kid))
        .onSuccess(kid -> TokenHandlers.ok(ctx, 201, new JsonObject().put("kid", kid)
            .put("signs_after_seconds", settings.keyPolicy().publishAhead().toSeconds())))
        .onFailure(ctx::fail);
  }
}
