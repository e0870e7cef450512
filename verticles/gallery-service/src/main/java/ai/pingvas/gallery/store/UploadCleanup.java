package ai.pingvas.gallery.store;

import ai.pingvas.gallery.storage.Thumbnailer;
import ai.pingvas.platform.ids.Uuids;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A finished job's uploads to delete: those under its {@code prefix} of attempts up to {@code upTo},
 * except the {@code keep} keys.
 */
public record UploadCleanup(String jobId, String prefix, int upTo, Set<String> keep) {
  /** Whether {@code key} (under the prefix) is an upload or thumbnail of an attempt up to {@code upTo} not kept. */
  public boolean removes(String key) {
    if (keep.contains(key) || !key.startsWith(prefix)) {
      return false;
    }
    String name = key.substring(prefix.length());
    int dash = name.indexOf('-');
    try {
      return dash > 0 && Integer.parseInt(name.substring(0, dash)) <= upTo;
    } catch (NumberFormatException e) {
      return false; // not named by this system: left alone
    }
  }

  /** The cleanup a job event calls for, or null (not terminal, nothing ran, or only one attempt succeeded). */
  public static UploadCleanup of(JsonObject event, List<Image> images) {
    String type = event.getString("type");
    Integer attempt = event.getValue("attempt") instanceof Number n ? n.intValue() : null;
    String userId = event.getString("user_id");
    String jobId = event.getString("job_id");
    if (attempt == null || attempt < 1 || !Uuids.isUuid(userId) || !Uuids.isUuid(jobId)) {
      return null;
    }
    jobId = Uuids.canonical(jobId);
    String prefix = "images/" + Uuids.canonical(userId) + "/" + jobId + "/";
    return switch (type == null ? "" : type) {
      case "job.failed", "job.canceled" -> new UploadCleanup(jobId, prefix, attempt, Set.of());
      case "job.succeeded" -> {
        if (attempt == 1) {
          yield null; // the first attempt succeeded: every upload of the job is one of its images
        }
        Set<String> keep = new HashSet<>();
        images.forEach(i -> {
          keep.add(i.objectKey());
          keep.add(Thumbnailer.keyOf(i.objectKey()));
        });
        yield new UploadCleanup(jobId, prefix, attempt, keep);
      }
      default -> null;
    };
  }
}
