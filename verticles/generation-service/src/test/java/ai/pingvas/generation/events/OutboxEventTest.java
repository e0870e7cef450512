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

  @Test
  void paddedDataAndAnEmptyObjectWithSpacesSpliceToValidJson() {
    JsonObject padded = new JsonObject(OutboxRelayVerticle.event("  {\"status\": \"queued\"} \n", "job.queued", JOB,
        USER, 1, TS));
    assertThat(padded.getString("status")).isEqualTo("queued");
    assertThat(padded.getString("ts")).isEqualTo(TS);
    JsonObject spaces = new JsonObject(OutboxRelayVerticle.event("{ \n }", "job.canceled", JOB, USER, 2, TS));
    assertThat(spaces.fieldNames()).containsExactlyInAnyOrder("type", "job_id", "user_id", "seq", "ts");
  }

  @Test
  void aTypeThatNeedsEscapingIsEncoded() {
    JsonObject event = new JsonObject(OutboxRelayVerticle.event("{}", "job.\"odd\\type", JOB, USER, 1, TS));
    assertThat(event.getString("type")).isEqualTo("job.\"odd\\type");
  }

  @Test
  void aPlacedJobsQueuedEventTravelsInItsDispatchedRecord() {
    var record = OutboxRelayVerticle.record("generation.events", JOB, USER, "job.dispatched", 2, TS,
        "{\"status\": \"dispatched\", \"attempt\": 1, \"tier\": \"pro\"}",
        "{\"status\": \"queued\", \"attempt\": 0, \"model\": \"sd-1.5\"}");
    assertThat(record.key()).isEqualTo(JOB);
    JsonObject dispatched = new JsonObject(record.value());
    assertThat(dispatched.getString("type")).isEqualTo("job.dispatched");
    assertThat(dispatched.getInteger("seq")).isEqualTo(2);
    assertThat(dispatched.containsKey("preceded_by")).isFalse();
    JsonObject queued = new JsonObject(new String(record.headers().lastHeader(OutboxRelayVerticle.HEADER_PRECEDED)
        .value(), java.nio.charset.StandardCharsets.UTF_8));
    assertThat(queued.getString("type")).isEqualTo("job.queued");
    assertThat(queued.getInteger("seq")).isEqualTo(1);
    assertThat(queued.getInteger("attempt")).isZero();
    assertThat(queued.getString("model")).isEqualTo("sd-1.5");
    assertThat(queued.getString("job_id")).isEqualTo(JOB);
    assertThat(queued.getString("user_id")).isEqualTo(USER);
    assertThat(queued.getString("ts")).isEqualTo(TS);
    assertThat(OutboxRelayVerticle.record("t", JOB, USER, "job.succeeded", 5, TS, "{}", null).headers()
        .lastHeader(OutboxRelayVerticle.HEADER_PRECEDED)).isNull();
  }
}
