package ai.pingvas.gallery.http;

import ai.pingvas.gallery.storage.ObjectStore;
import ai.pingvas.gallery.store.Image;
import ai.pingvas.gallery.store.ImageStore;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /internal/v1/images/verify} (router only): before a job may succeed, each uploaded
 * object must exist under the job's key prefix, have the reported size, start with the PNG
 * signature and have the reported dimensions. Any mismatch is 422 naming the image and the reason.
 *
 * <p>When the router sends the job's prompt and model, the verified images are recorded before the
 * answer: the router reports the job succeeded only after it, with the images' URLs, and those must
 * not be 404 until the {@code job.succeeded} event reaches the ingest (which then finds them stored
 * and makes their thumbnails). If the attempt did not succeed after all (canceled meanwhile), the
 * job's cleanup deletes the rows with the uploads.
 */
final class UploadVerifier {
  private static final Logger LOG = LoggerFactory.getLogger(UploadVerifier.class);
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private final ObjectStore objects;
  private final ImageStore store;

  UploadVerifier(ObjectStore objects, ImageStore store) {
    this.objects = objects;
    this.store = store;
  }

  void verify(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    if (body == null || body.getString("job_id") == null || body.getString("user_id") == null
        || !(body.getValue("images") instanceof JsonArray images)) {
      ctx.fail(ApiException.badRequest("bad_request", "send {job_id, user_id, images: [...]}"));
      return;
    }
    if (!Uuids.isUuid(body.getString("job_id")) || !Uuids.isUuid(body.getString("user_id"))) {
      ctx.fail(ApiException.badRequest("bad_request", "job_id and user_id must be UUIDs"));
      return;
    }
    List<Image> rows;
    try {
      rows = rowsToRecord(body, images);
    } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
      ctx.fail(ApiException.badRequest("bad_request", "images need index, key, seed, width, height, size_bytes "
          + "and sha256: " + e.getMessage()));
      return;
    }
    String prefix = "images/" + body.getString("user_id") + "/" + body.getString("job_id") + "/";
    Context context = ctx.vertx().getOrCreateContext();
    List<Future<Void>> checks = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      checks.add(check(context, prefix, images.getJsonObject(i)));
    }
    // Recording is a head start on the ingest, not a condition: with the gallery's database away the
    // job still succeeds (its images are served once the ingest records them, as the URLs would be).
    Future.all(checks).compose(all -> store.insert(rows).otherwise(err -> {
      LOG.atWarn().addKeyValue("job_id", body.getString("job_id")).addKeyValue("error", err.toString())
          .log("could not record verified images; the ingest will");
      return 0;
    }))
        .onSuccess(recorded -> ctx.response().putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("verified", images.size()).encode()))
        .onFailure(ctx::fail);
  }

  /**
   * The rows to write once the uploads pass: none from a router that sends no prompt and model (one
   * older than this; the ingest records the images from the event as before).
   */
  private static List<Image> rowsToRecord(JsonObject body, JsonArray images) {
    if (!(body.getValue("prompt") instanceof String) || !(body.getValue("model") instanceof String)) {
      return List.of();
    }
    if (!(body.getValue("attempt") instanceof Number)) {
      throw new IllegalArgumentException("attempt is missing");
    }
    for (int i = 0; i < images.size(); i++) {
      JsonObject image = images.getJsonObject(i);
      String key = image.getString("key");
      String id = image.getString("id");
      if (key != null && id != null && !id.equals(Uuids.imageId(key))) {
        throw new IllegalArgumentException("image " + i + " has id " + id + ", not the id of its key");
      }
      if (image.getString("sha256") == null) {
        throw new IllegalArgumentException("image " + i + " has no sha256");
      }
    }
    List<Image> rows = Image.ofSucceeded(body);
    rows.forEach(row -> {
      if (row.id() == null) {
        throw new IllegalArgumentException("image " + row.index() + " has no id");
      }
    });
    return rows;
  }

  private Future<Void> check(Context context, String prefix, JsonObject image) {
    String key = image.getString("key");
    if (key == null || !key.startsWith(prefix) || key.contains("..")) {
      return invalid("image key " + key + " is outside the job's upload prefix " + prefix);
    }
    if (key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
      // S3 refuses such a key (400): a 500 here would have the router retry the result for ever
      return invalid("image key " + key.substring(0, 64) + "... is longer than S3's 1,024 bytes");
    }
    long size = image.getLong("size_bytes", -1L);
    return objects.head(context, key).compose(head -> {
      if (head == null) {
        return invalid("image " + key + " was not uploaded");
      }
      if (head.size() != size) {
        return invalid("image " + key + " is " + head.size() + " bytes, the worker reported " + size);
      }
      if (head.size() < 24) {
        // too short for a PNG header; reading its first 24 bytes would fail (416) as a 500
        return invalid("image " + key + " is " + head.size() + " bytes, not a PNG");
      }
      return objects.range(context, key, 0, 23).compose(bytes -> {
        if (bytes.length < 24 || !Arrays.equals(Arrays.copyOf(bytes, 8), PNG_SIGNATURE)) {
          return invalid("image " + key + " is not a PNG");
        }
        ByteBuffer ihdr = ByteBuffer.wrap(bytes, 16, 8);
        int width = ihdr.getInt();
        int height = ihdr.getInt();
        if (width != image.getInteger("width", -1) || height != image.getInteger("height", -1)) {
          return invalid("image " + key + " is " + width + "x" + height + ", the job asked for "
              + image.getInteger("width") + "x" + image.getInteger("height"));
        }
        return Future.<Void>succeededFuture();
      });
    });
  }

  private static Future<Void> invalid(String detail) {
    return Future.failedFuture(ApiException.unprocessable("invalid_image", detail));
  }
}
