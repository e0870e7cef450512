package ai.pingvas.gallery.store;

import io.vertx.core.Future;
import java.util.List;

/** Image metadata in Postgres. */
public interface ImageStore {
  /** Stores images, ignoring ones already stored (ingest is idempotent); returns how many were new. */
  Future<Integer> insert(List<Image> images);

  /** The image if it exists and belongs to the user, else null. */
  Future<Image> get(String userId, String imageId);

  /** A page of the user's images, newest first. */
  Future<ImagePage> list(String userId, String cursor, int limit);

  /** A page and the cursor of the next one (null at the end). */
  record ImagePage(List<Image> items, String nextCursor) {
  }
}
