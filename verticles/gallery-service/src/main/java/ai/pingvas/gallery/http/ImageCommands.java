package ai.pingvas.gallery.http;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import ai.pingvas.platform.tiers.TierCatalog;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Deleting images and the storage quota (usage by the caller's tier, and the router's quota question). */
final class ImageCommands {
  private final ImageStore store;
  private final ObjectStore objects;
  private final TierCatalog tiers;

  ImageCommands(ImageStore store, ObjectStore objects, TierCatalog tiers) {
    this.store = store;
    this.objects = objects;
    this.tiers = tiers;
  }

  /**
   * {@code DELETE /v1/images/{id}}: the objects go first, then the row. A failure in between leaves
   * the row, so retrying the DELETE finishes the job (deleting a missing object succeeds); the other
   * order could orphan objects nobody can name any more. A thumbnail the ingest recorded in between
   * is deleted after the row; one it stores after the row is gone, the ingest deletes itself.
   */
  void delete(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String id = ctx.pathParam("id");
    store.get(principal.userId(), id).compose(image -> {
      if (image == null) {
        return Future.failedFuture(ApiException.notFound("no image " + id));
      }
      Future<Void> thumbnail = image.thumbnailKey() == null ? Future.succeededFuture()
          : objects.delete(ctx.vertx().getOrCreateContext(), image.thumbnailKey());
      return Future.all(objects.delete(ctx.vertx().getOrCreateContext(), image.objectKey()), thumbnail)
          .compose(v -> store.delete(principal.userId(), id))
          // the ingest recorded a thumbnail after this request read the row: delete that one too
          .compose(deleted -> deleted == null || deleted.thumbnailKey() == null
              || deleted.thumbnailKey().equals(image.thumbnailKey()) ? Future.<Void>succeededFuture()
              : objects.delete(ctx.vertx().getOrCreateContext(), deleted.thumbnailKey()));
    }).onSuccess(deleted -> ctx.response().setStatusCode(204).end()).onFailure(ctx::fail);
  }

  /** {@code GET /v1/images/usage}: the caller's storage against their tier's quota. */
  void usage(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    storage(principal.userId(), principal.tier()).onSuccess(json -> send(ctx, json)).onFailure(ctx::fail);
  }

  /** {@code GET /internal/v1/storage/{user_id}?tier=}: what the router asks before accepting a job. */
  void internalStorage(RoutingContext ctx) {
    String userId = ctx.pathParam("user_id");
    String tier = ctx.request().getParam("tier");
    if (!Uuids.isUuid(userId) || tier == null || tier.isBlank()) {
      ctx.fail(ApiException.badRequest("bad_request", "GET /internal/v1/storage/{user id}?tier={tier}"));
      return;
    }
    storage(userId, tier).onSuccess(json -> send(ctx, json)).onFailure(ctx::fail);
  }

  /** Usage against the tier's quota from user-service's tier table (the last known one if it is away). */
  private Future<JsonObject> storage(String userId, String tier) {
    return tiers.limits(tier).compose(limits -> store.usage(userId).map(usage -> {
      long quota = limits.storageQuotaBytes();
      return new JsonObject().put("tier", tier).put("images", usage.images()).put("used_bytes", usage.bytes())
          .put("quota_bytes", quota).put("over_quota", usage.bytes() >= quota);
    }));
  }

  private static void send(RoutingContext ctx, JsonObject json) {
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
        .end(json.encode());
  }
}
