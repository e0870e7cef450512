package ai.pingvas.generation.events;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Latest queue position and ETA of queued jobs whose owners are connected here, written by the
 * dispatcher and read by the event fan-out to enrich {@code job.queued} events.
 */
public final class PositionBoard {
  /** A queued job's place: jobs ahead and estimated seconds until it finishes (null if unknown). */
  public record Place(int position, Double etaSeconds, int seq) {
    public JsonObject applyTo(JsonObject event) {
      return event.put("queue_position", position).put("eta_seconds", etaSeconds);
    }
  }

  private final Map<String, Place> places = new ConcurrentHashMap<>();

  public void put(String jobId, Place place) {
    places.put(jobId, place);
  }

  public Place get(String jobId) {
    return places.get(jobId);
  }

  public void remove(String jobId) {
    places.remove(jobId);
  }

  public int size() {
    return places.size();
  }
}
