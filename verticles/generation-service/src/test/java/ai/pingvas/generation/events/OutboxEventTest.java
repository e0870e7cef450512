package ai.pingvas.generation.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class OutboxEventTest {
  private static final String JOB = "00000000-0000-0000-0000-000000000001";
  private static final String USER = "00000000-0000-0000-0000-0000000000aa";
  private static final String TS = "2026-11-27T10:00:00.123456Z";

  @Test
  void appendsTheEnvelopeToTheDataAsPostgresPrintsIt() {
    String data = "{\"model\": \"sd-1.5\", \"status\": \"queued\", \"loras\": [{\"name\": \"a,b}\"}], \"count\": 1}";
    JsonObject event = new JsonObject(OutboxRelayVerticle.event(data, "job.queued", JOB, USER, 1, TS));
    assertThat(event).isEqualTo(new JsonObject(data).put("type", "job.queued").put("job_id", JOB)
        .put("user_id", USER).put("seq", 1).put("ts", TS));
  }

  @Test
  void theHeadersCarryTheEnvelopeAFollowerRoutesBy() {
    org.apache.kafka.common.header.Headers headers = OutboxRelayVerticle.headers("job.progress", USER, 12);
    assertThat(new String(headers.lastHeader(OutboxRelayVerticle.HEADER_TYPE).value())).isEqualTo("job.progress");
    assertThat(new String(headers.lastHeader(OutboxRelayVerticle.HEADER_USER).value())).isEqualTo(USER);
    assertThat(new String(headers.lastHeader(OutboxRelayVerticle.HEADER_SEQ).value())).isEqualTo("12");
  }

  @Test
  void emptyDataGivesTheEnvelopeAlone() {
    JsonObject event = new JsonObject(OutboxRelayVerticle.event("{}", "job.canceled", JOB, USER, 7, TS));
    assertThat(event.fieldNames()).containsExactlyInAnyOrder("type", "job_id", "user_id", "seq", "ts");
    assertThat(event.getInteger("seq")).isEqualTo(7);
    assertThat(new JsonObject(OutboxRelayVerticle.event(null, "job.canceled", JOB, USER, 7, TS))).isEqualTo(event);
  }

  @Test
  void theEnvelopeWinsOverADataFieldOfTheSameName() {
    JsonObject event = new JsonObject(OutboxRelayVerticle.event("{\"seq\": 99, \"type\": \"x\"}", "job.failed", JOB,
        USER, 3, TS));
    assertThat(event.getInteger("seq")).isEqualTo(3);
    assertThat(event.getString("type")).isEqualTo("job.failed");
  }

  @Test
  void refusesDataThatIsNotAnObject() {
    assertThatThrownBy(() -> OutboxRelayVerticle.event("[1]", "job.queued", JOB, USER, 1, TS))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
