package ai.pingvas.generation.events;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recent events of every job (this replica sees all of them on the shared topic), so a client
 * that reconnects can resume from the last seq it saw without losing events. Bounded per job and in
 * jobs; a client whose gap is no longer covered gets a snapshot of the job instead.
 *
 * <p>Events are kept as the JSON text they arrived in (about 300 bytes each) and parsed only for a
 * resume, which is rare: tens of thousands of parsed {@code JsonObject}s were most of the router's
 * live heap and kept its collector busy under load.
 */
public final class EventBuffer {
  static final int PER_JOB = 64;
  private final int maxJobs;
  private final Map<String, Recent> byJob;

  private record Event(int seq, String json) {
  }

  /** One job's owner and its latest events, oldest first. */
  private record Recent(String userId, ArrayDeque<Event> events) {
  }

  public EventBuffer(int maxJobs) {
    this.maxJobs = maxJobs;
    this.byJob = new LinkedHashMap<>(1024, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Recent> eldest) {
        return size() > EventBuffer.this.maxJobs;
      }
    };
  }

  /**
   * Records an event given as its JSON text with the fields already read from it (duplicates of a
   * seq, as a re-published outbox row, are ignored).
   */
  public synchronized void add(String jobId, String userId, int seq, String json) {
    Recent recent = byJob.computeIfAbsent(jobId, id -> new Recent(userId, new ArrayDeque<>(4)));
    ArrayDeque<Event> events = recent.events();
    if (!events.isEmpty() && events.peekLast().seq() >= seq) {
      return;
    }
    events.addLast(new Event(seq, json));
    while (events.size() > PER_JOB) {
      events.pollFirst();
    }
  }

  /**
   * The user's events of a job after {@code seq}, in order; null when they cannot be replayed
   * without a gap (unknown job, another user's job, or events already evicted).
   */
  public synchronized List<JsonObject> after(String jobId, String userId, int seq) {
    Recent recent = byJob.get(jobId);
    if (recent == null || recent.events().isEmpty() || !userId.equals(recent.userId())) {
      return null;
    }
    if (recent.events().peekFirst().seq() > seq + 1) {
      return null;
    }
    List<JsonObject> out = new ArrayList<>();
    for (Event event : recent.events()) {
      if (event.seq() > seq) {
        out.add(new JsonObject(event.json()));
      }
    }
    return out;
  }
}
