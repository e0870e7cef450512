package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Every replica routes every event by the headers the relay writes, read without parsing the event. */
class EventRouteTest {
  private static final String JOB = "7d1f3c2a-0000-4000-8000-000000000001";
  private static final String USER = "7d1f3c2a-0000-4000-8000-0000000000aa";

  @Test
  void readsWhatTheRelayWrites() {
    for (String type : new String[] {"job.queued", "job.dispatched", "job.started", "job.progress", "job.succeeded",
        "job.failed", "job.canceled", "job.someday"}) {
      for (int seq : new int[] {0, 1, 42, 999_999_999}) {
        JobEventsVerticle.Route route = JobEventsVerticle.fromHeaders(JOB, OutboxRelayVerticle.headers(type, USER, seq));
        assertThat(route).isEqualTo(new JobEventsVerticle.Route(JOB, USER, seq, type));
      }
    }
    // a known type is the shared constant (compared by value everywhere, but never re-decoded)
    assertThat(JobEventsVerticle.fromHeaders(JOB, OutboxRelayVerticle.headers("job.succeeded", USER, 3)).type())
        .isSameAs(ai.pingvas.generation.domain.JobEvent.SUCCEEDED);
  }

  @Test
  void aMissingOrMalformedHeaderLeavesTheEventToBeParsed() {
    assertThat(JobEventsVerticle.fromHeaders(null, OutboxRelayVerticle.headers("job.queued", USER, 1))).isNull();
    assertThat(JobEventsVerticle.fromHeaders(JOB, new RecordHeaders())).isNull();
    for (String seq : new String[] {"", "-1", "1a", "12345678901", " 7"}) {
      RecordHeaders headers = new RecordHeaders();
      headers.add(OutboxRelayVerticle.HEADER_TYPE, "job.queued".getBytes(StandardCharsets.UTF_8));
      headers.add(OutboxRelayVerticle.HEADER_USER, USER.getBytes(StandardCharsets.UTF_8));
      headers.add(OutboxRelayVerticle.HEADER_SEQ, seq.getBytes(StandardCharsets.UTF_8));
      assertThat(JobEventsVerticle.fromHeaders(JOB, headers)).as("seq '%s'", seq).isNull();
    }
  }
}
