package ai.pingvas.gallery.store;

import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** Image metadata in Postgres. */
public interface ImageStore {
  /**
   * Stores images, ignoring ones already stored (ingest is idempotent; the router's verification
   * recorded most of them already) and deleted ones; returns how many were new.
   */
  Future<Integer> insert(List<Image> images);

  /**
   * Removes the rows whose objects the cleanups delete (rows follow their files): images of
   * attempts up to {@code upTo} not kept, recorded when an attempt that then did not succeed was
   * verified; how many went.
   */
  Future<Integer> forgetRemoved(List<UploadCleanup> cleanups);

  /** Which of these images are stored without a thumbnail. */
  Future<Set<String>> withoutThumbnail(List<String> ids);

  /** Records an image's thumbnail; false if the image is gone (deleted meanwhile). */
  Future<Boolean> setThumbnail(String imageId, String key, long bytes);

  /** The image if it exists and belongs to the user, else null. */
  Future<Image> get(String userId, String imageId);

  /** A page of the user's images, newest first. */
  Future<ImagePage> list(String userId, String cursor, int limit);

  /**
   * Removes the user's image row, remembering its id so a replayed ingest never brings it back;
   * null if there was none.
   */
  Future<Deleted> delete(String userId, String imageId);

  /** A deleted row: its thumbnail's key as it was when deleted (null if it had none). */
  record Deleted(String thumbnailKey) {
  }

  /** What the user's images take in storage (images and thumbnails). */
  Future<Usage> usage(String userId);

  /** A page and the cursor of the next one (null at the end). */
  record ImagePage(List<Image> items, String nextCursor) {
  }

  /** A user's image count and bytes stored. */
  record Usage(long images, long bytes) {
  }

  /** Forgets up to {@code limit} of the oldest deleted-image tombstones made before {@code before}; how many went. */
  Future<Integer> purgeTombstones(Instant before, int limit);

  /** Looks at these finished jobs' uploads again {@code after} from now (a later attempt's cleanup replaces an earlier one). */
  Future<Void> scheduleRechecks(List<UploadCleanup> cleanups, Duration after);

  /** Up to {@code limit} rechecks now due, each put off by {@code lease} so no other replica takes it meanwhile. */
  Future<List<UploadCleanup>> dueRechecks(int limit, Duration lease);

  /** Forgets rechecks that are done (unless a later attempt's cleanup replaced one meanwhile). */
  Future<Void> rechecked(List<UploadCleanup> done);
}
