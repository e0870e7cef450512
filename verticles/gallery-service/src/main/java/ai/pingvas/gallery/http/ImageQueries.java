package ai.pingvas.gallery.http;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.Image;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.auth.AuthHandler;
import ai.pingvas.platform.auth.Principal;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reading a user's images; another user's image is indistinguishable from a missing one. */
final class ImageQueries {
  private final ImageStore store;
  private final ObjectStore objects;

  ImageQueries(ImageStore store, ObjectStore objects) {
    this.store = store;
    this.objects = objects;
  }

  void list(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String limit = ctx.request().getParam("limit");
    store.list(principal.userId(), ctx.request().getParam("cursor"), limit == null ? 20 : Integer.parseInt(limit))
        .onSuccess(page -> {
          JsonArray items = new JsonArray();
          page.items().forEach(image -> items.add(view(image)));
          ctx.response().putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("items", items).put("next_cursor", page.nextCursor()).encode());
        })
        .onFailure(ctx::fail);
  }

  void get(RoutingContext ctx) {
    find(ctx).onSuccess(image -> ctx.response().putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "private, max-age=60").end(view(image).encode())).onFailure(ctx::fail);
  }

  void content(RoutingContext ctx) {
    find(ctx).onSuccess(image -> ctx.response().setStatusCode(302)
        .putHeader("Location", objects.presignGet(image.objectKey()))
        .putHeader("Cache-Control", "private, max-age=" + Math.max(0, objects.downloadTtl().toSeconds() - 30))
        .end()).onFailure(ctx::fail);
  }

  /** {@code GET /v1/images/{id}/thumbnail}: 302 to the thumbnail made at ingest. */
  void thumbnail(RoutingContext ctx) {
    find(ctx).compose(image -> image.thumbnailKey() == null
        ? Future.failedFuture(ApiException.notFound("image " + image.id() + " has no thumbnail"))
        : Future.succeededFuture(image)).onSuccess(image -> ctx.response().setStatusCode(302)
        .putHeader("Location", objects.presignGet(image.thumbnailKey()))
        .putHeader("Cache-Control", "private, max-age=" + Math.max(0, objects.downloadTtl().toSeconds() - 30))
        .end()).onFailure(ctx::fail);
  }

  private Future<Image> find(RoutingContext ctx) {
    Principal principal = AuthHandler.principal(ctx);
    String id = ctx.pathParam("id");
    if (!Uuids.isUuid(id)) {
      return Future.failedFuture(ApiException.badRequest("invalid_id", "'" + id + "' is not an image id (a UUID)"));
    }
    return store.get(principal.userId(), id).compose(image -> image == null
        ? Future.failedFuture(ApiException.notFound("no image " + id)) : Future.succeededFuture(image));
  }

  private JsonObject view(Image image) {
    return new JsonObject().put("id", image.id()).put("job_id", image.jobId()).put("prompt", image.prompt())
        .put("model", image.model()).put("seed", image.seed()).put("width", image.width())
        .put("height", image.height()).put("size_bytes", image.sizeBytes()).put("sha256", image.sha256())
        .put("created_at", image.createdAt().toString()).put("url", objects.presignGet(image.objectKey()))
        .put("thumbnail_url", image.thumbnailKey() == null ? null : objects.presignGet(image.thumbnailKey()));
  }
}
