package ai.pingvas.generation.events;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recent events of every job (this replica sees all of them on the shared topic), so a client
 * that reconnects can resume from the last seq it saw without losing events. Bounded per job, in
 * jobs and in bytes (the oldest jobs go first); a client whose gap is no longer covered gets a
 * snapshot of the job instead.
 *
 * <p>Events are kept as the JSON text they arrived in (300–600 bytes each; more with long prompts)
 * and parsed only for a resume, which is rare. The byte bound is what keeps the router's live heap
 * small under load: bounded by jobs alone, 50,000 jobs' events were ~100 MB, most of the live heap,
 * and on JDK 17's single-generation ZGC marking them took more CPU than the event loop at ~2,600
 * jobs/s; a prompt near its length limit would have made it larger still.
 */
public final class EventBuffer {
  static final int PER_JOB = 64;
  /** Approximate heap per buffered event beyond its text: the record, the string's header, the deque slot. */
  static final int EVENT_OVERHEAD = 64;
  /** Approximate heap per buffered job: its map entry, key, owner and deque. */
  static final int JOB_OVERHEAD = 200;
  private final int maxJobs;
  private final long maxBytes;
  /** In insertion order: the first entries are the oldest jobs, evicted first. */
  private final Map<String, Recent> byJob = new LinkedHashMap<>(1024);
  private long bytes;

  private record Event(int seq, String json) {
    long size() {
      return EVENT_OVERHEAD + json.length();
    }
  }

  /** One job's owner and its latest events, oldest first. */
  private record Recent(String userId, ArrayDeque<Event> events) {
  }

  public EventBuffer(int maxJobs, long maxBytes) {
    this.maxJobs = maxJobs;
    this.maxBytes = maxBytes;
  }

  /**
   * Records an event given as its JSON text with the fields already read from it (duplicates of a
   * seq, as a re-published outbox row, are ignored).
   */
  public synchronized void add(String jobId, String userId, int seq, String json) {
    Recent recent = byJob.get(jobId);
    if (recent == null) {
      recent = new Recent(userId, new ArrayDeque<>(4));
      bytes += JOB_OVERHEAD;
      byJob.put(jobId, recent);
    }
    ArrayDeque<Event> events = recent.events();
    if (!events.isEmpty() && events.peekLast().seq() >= seq) {
      return;
    }
    Event event = new Event(seq, json);
    events.addLast(event);
    bytes += event.size();
    while (events.size() > PER_JOB) {
      bytes -= events.pollFirst().size();
    }
    Iterator<Recent> oldest = byJob.values().iterator();
    while ((bytes > maxBytes || byJob.size() > maxJobs) && oldest.hasNext()) {
      Recent evicted = oldest.next();
      if (evicted == recent) {
        break; // the newest job stays, even alone over the byte bound
      }
      bytes -= sizeOf(evicted);
      oldest.remove();
    }
  }

  private static long sizeOf(Recent recent) {
    long size = JOB_OVERHEAD;
    for (Event event : recent.events()) {
      size += event.size();
    }
    return size;
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

  /** The approximate heap the buffered events take, in bytes. */
  public synchronized long bytes() {
    return bytes;
  }

  /** How many jobs have buffered events. */
  public synchronized int jobs() {
    return byJob.size();
  }
}
