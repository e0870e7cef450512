package ai.pingvas.generation.events;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recent events of every job (this replica sees all of them on the shared topic), so a client
 * that reconnects can resume from the last seq it saw without losing events. Bounded per job and in
 * jobs; a client whose gap is no longer covered gets a snapshot of the job instead.
 */
public final class EventBuffer {
  private static final int PER_JOB = 64;
  private final int maxJobs;
  private final Map<String, Deque<JsonObject>> byJob;

  public EventBuffer(int maxJobs) {
    this.maxJobs = maxJobs;
    this.byJob = new LinkedHashMap<>(1024, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Deque<JsonObject>> eldest) {
        return size() > EventBuffer.this.maxJobs;
      }
    };
  }

  /** Records an event (duplicates of a seq, as a re-published outbox row, are ignored). */
  public synchronized void add(JsonObject event) {
    String jobId = event.getString("job_id");
    Integer seq = event.getInteger("seq");
    if (jobId == null || seq == null) {
      return;
    }
    Deque<JsonObject> events = byJob.computeIfAbsent(jobId, id -> new ArrayDeque<>());
    if (!events.isEmpty() && events.peekLast().getInteger("seq") >= seq) {
      return;
    }
    events.addLast(event);
    while (events.size() > PER_JOB) {
      events.pollFirst();
    }
  }

  /**
   * The user's events of a job after {@code seq}, in order; null when they cannot be replayed
   * without a gap (unknown job, another user's job, or events already evicted).
   */
  public synchronized List<JsonObject> after(String jobId, String userId, int seq) {
    Deque<JsonObject> events = byJob.get(jobId);
    if (events == null || events.isEmpty() || !userId.equals(events.peekFirst().getString("user_id"))) {
      return null;
    }
    if (events.peekFirst().getInteger("seq") > seq + 1) {
      return null;
    }
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject event : events) {
      if (event.getInteger("seq") > seq) {
        out.add(event);
      }
    }
    return out;
  }
}
