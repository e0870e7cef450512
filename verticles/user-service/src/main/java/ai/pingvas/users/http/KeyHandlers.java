package ai.pingvas.users.http;

import ai.pingvas.platform.http.ApiException;
import ai.pingvas.users.UserSettings;
import ai.pingvas.users.keys.KeyRing;
import ai.pingvas.users.keys.KeyRotationVerticle;
import ai.pingvas.users.store.SigningKeyStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The public JWK Set, the operator's "rotate now" and "retire this key now". */
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

  void retire(RoutingContext ctx) {
    String kid = ctx.pathParam("kid");
    store.retire(settings.keyPolicy(), kid).compose(outcome -> switch (outcome) {
      case UNKNOWN -> Future.<Void>failedFuture(ApiException.notFound("no signing key " + kid));
      case SIGNING -> Future.<Void>failedFuture(ApiException.conflict("key_signing", "signing key " + kid
          + " signs tokens now; rotate first (POST /v1/auth/signing-keys) and retire it once the new key signs ("
          + settings.keyPolicy().publishAhead().toSeconds() + " s after the rotation)"));
      case RETIRED -> rotation.refresh();
    }).onSuccess(v -> ctx.response().setStatusCode(204).end()).onFailure(ctx::fail);
  }
}
