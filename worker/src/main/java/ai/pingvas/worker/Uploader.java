package ai.pingvas.worker;

import ai.pingvas.protocol.ImageOutput;
import ai.pingvas.protocol.UploadSlot;
import ai.pingvas.worker.engine.Engine.RenderedImage;
import ai.pingvas.worker.engine.EngineException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Uploads images straight to S3 through the presigned PUT URLs of an assignment, with retries. */
final class Uploader {
  private static final int ATTEMPTS = 3;
  private final Vertx vertx;
  private final WebClient client;

  Uploader(Vertx vertx) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(60)
        .setKeepAlive(true));
  }

  Future<List<ImageOutput>> uploadAll(List<RenderedImage> images, List<UploadSlot> slots) {
    List<Future<ImageOutput>> uploads = new ArrayList<>();
    for (RenderedImage image : images) {
      UploadSlot slot = slots.stream().filter(s -> s.index() == image.index()).findFirst().orElse(null);
      if (slot == null) {
        return Future.failedFuture(new EngineException("upload_failed", "no upload slot for image " + image.index(),
            true));
      }
      uploads.add(upload(image, slot, 1));
    }
    return Future.all(uploads).map(all -> all.<ImageOutput>list());
  }

  private Future<ImageOutput> upload(RenderedImage image, UploadSlot slot, int attempt) {
    return client.putAbs(slot.putUrl())
        .putHeader("Content-Type", "image/png")
        .timeout(60_000)
        .sendBuffer(Buffer.buffer(image.png()))
        .compose(response -> {
          if (response.statusCode() / 100 == 2) {
            return Future.succeededFuture(new ImageOutput(image.index(), slot.key(), image.width(), image.height(),
                image.seed(), image.png().length, sha256(image.png())));
          }
          return Future.failedFuture(new EngineException("upload_failed", "storage answered "
              + response.statusCode() + " to the upload of image " + image.index(), true));
        })
        .recover(err -> attempt < ATTEMPTS
            ? vertx.timer(250L * attempt).compose(v -> upload(image, slot, attempt + 1))
            : Future.failedFuture(err instanceof EngineException ? err
                : new EngineException("upload_failed", "upload failed: " + err.getMessage(), true, err)));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
