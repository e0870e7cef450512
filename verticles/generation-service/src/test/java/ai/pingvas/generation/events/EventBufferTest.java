package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventBufferTest {
  private static final String JOB = "00000000-0000-0000-0000-000000000001";

  private static void add(EventBuffer buffer, String job, String user, int seq) {
    buffer.add(job, user, seq, new JsonObject().put("type", "job.progress").put("job_id", job).put("user_id", user)
        .put("seq", seq).encode());
  }

  @Test
  void replaysTheOwnersEventsAfterTheSeqTheyNameInOrder() {
    EventBuffer buffer = new EventBuffer(10, 1 << 20);
    for (int seq = 1; seq <= 5; seq++) {
      add(buffer, JOB, "alice", seq);
    }
    List<JsonObject> missed = buffer.after(JOB, "alice", 2);
    assertThat(missed).extracting(e -> e.getInteger("seq")).containsExactly(3, 4, 5);
    assertThat(missed.get(0).getString("type")).isEqualTo("job.progress");
    assertThat(buffer.after(JOB, "alice", 5)).isEmpty();
    assertThat(buffer.after(JOB, "mallory", 0)).as("another user's job").isNull();
    assertThat(buffer.after("00000000-0000-0000-0000-000000000009", "alice", 0)).as("unknown job").isNull();
  }

  @Test
  void ignoresRepublishedSeqs() {
    EventBuffer buffer = new EventBuffer(10, 1 << 20);
    add(buffer, JOB, "alice", 1);
    add(buffer, JOB, "alice", 2);
    add(buffer, JOB, "alice", 2);
    add(buffer, JOB, "alice", 1);
    assertThat(buffer.after(JOB, "alice", 0)).extracting(e -> e.getInteger("seq")).containsExactly(1, 2);
  }

  @Test
  void refusesAGapOnceOldEventsOfAJobAreDropped() {
    EventBuffer buffer = new EventBuffer(10, 1 << 20);
    for (int seq = 1; seq <= EventBuffer.PER_JOB + 6; seq++) {
      add(buffer, JOB, "alice", seq);
    }
    assertThat(buffer.after(JOB, "alice", 1)).as("seq 2..6 are gone").isNull();
    assertThat(buffer.after(JOB, "alice", 6)).hasSize(EventBuffer.PER_JOB);
  }

  @Test
  void forgetsTheOldestJobsBeyondItsBound() {
    EventBuffer buffer = new EventBuffer(3, 1 << 20);
    for (int i = 1; i <= 4; i++) {
      add(buffer, "00000000-0000-0000-0000-00000000000" + i, "alice", 1);
    }
    assertThat(buffer.after("00000000-0000-0000-0000-000000000001", "alice", 0)).isNull();
    assertThat(buffer.after("00000000-0000-0000-0000-000000000004", "alice", 0)).hasSize(1);
  }

  @Test
  void forgetsTheOldestJobsBeyondItsByteBoundAndAccountsWhatItDrops() {
    String event = new JsonObject().put("type", "job.succeeded").put("prompt", "x".repeat(936)).encode();
    long perJob = EventBuffer.JOB_OVERHEAD + EventBuffer.EVENT_OVERHEAD + event.length();
    EventBuffer buffer = new EventBuffer(1_000, 3 * perJob);
    for (int i = 1; i <= 5; i++) {
      buffer.add("00000000-0000-0000-0000-00000000000" + i, "alice", 1, event);
    }
    assertThat(buffer.jobs()).isEqualTo(3);
    assertThat(buffer.bytes()).isEqualTo(3 * perJob);
    assertThat(buffer.after("00000000-0000-0000-0000-000000000002", "alice", 0)).as("evicted").isNull();
    assertThat(buffer.after("00000000-0000-0000-0000-000000000003", "alice", 0)).hasSize(1);
    assertThat(buffer.after("00000000-0000-0000-0000-000000000005", "alice", 0)).hasSize(1);
  }

  @Test
  void keepsItsByteCountExactThroughCountEvictionAndPerJobTrimming() {
    String event = new JsonObject().put("type", "job.progress").encode();
    long perEvent = EventBuffer.EVENT_OVERHEAD + event.length();
    EventBuffer buffer = new EventBuffer(2, 1 << 20);
    for (int seq = 1; seq <= EventBuffer.PER_JOB + 10; seq++) {
      buffer.add(JOB, "alice", seq, event);
    }
    assertThat(buffer.bytes()).isEqualTo(EventBuffer.JOB_OVERHEAD + EventBuffer.PER_JOB * perEvent);
    buffer.add("00000000-0000-0000-0000-000000000002", "alice", 1, event);
    buffer.add("00000000-0000-0000-0000-000000000003", "alice", 1, event);
    assertThat(buffer.jobs()).as("the first job went by the job bound").isEqualTo(2);
    assertThat(buffer.bytes()).isEqualTo(2 * (EventBuffer.JOB_OVERHEAD + perEvent));
  }

  @Test
  void keepsTheNewestJobEvenWhenItAloneIsOverTheBound() {
    String big = new JsonObject().put("prompt", "y".repeat(4000)).encode();
    EventBuffer buffer = new EventBuffer(10, 1000);
    buffer.add(JOB, "alice", 1, big);
    assertThat(buffer.after(JOB, "alice", 0)).hasSize(1);
    buffer.add("00000000-0000-0000-0000-000000000002", "alice", 1, big);
    assertThat(buffer.after(JOB, "alice", 0)).isNull();
    assertThat(buffer.jobs()).isEqualTo(1);
  }
}
