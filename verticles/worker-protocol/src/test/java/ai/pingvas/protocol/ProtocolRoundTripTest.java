package ai.pingvas.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Both sides parse what the other writes, and refuse what is malformed. */
class ProtocolRoundTripTest {
  private static final JobSpec JOB = new JobSpec("8d56afad-4e3e-4dd3-a5e3-08b17a9a0a66", 2, "sdxl", "a fox",
      null, 1024, 768, 30, 6.5, 42, "euler_a", List.of(new LoraRef("pixel-art", 0.8)), 2, 600_000, Map.of());

  @Test
  void workerMessagesSurviveTheirJsonForm() {
    List<WorkerMessage> messages = List.of(
        new WorkerMessage.Hello(1, "w1", "NVIDIA L4", 23034, 20000, 1, List.of("sdxl"), "invokeai",
            List.of(new RunningJob(JOB.jobId(), 2))),
        new WorkerMessage.Hello(1, "w2", "NVIDIA L4", 23034, 20000, 1, List.of(), "invokeai", List.of(), 1),
        new WorkerMessage.Heartbeat(19000, List.of("sdxl", "sd-1.5"), List.of(), true, 0.93),
        new WorkerMessage.Progress(JOB.jobId(), 2, 5, 30, "data:image/png;base64,AAAA"),
        new WorkerMessage.Result(JOB.jobId(), 2, List.of(new ImageOutput(0, "images/u/j/2-0.png", 1024, 768, 42,
            12345, "ab".repeat(32))), 1200L, 8000),
        new WorkerMessage.Result(JOB.jobId(), 2, List.of(), null, 900),
        new WorkerMessage.Failure(JOB.jobId(), 2, "bad_request", "unknown scheduler", false));
    for (WorkerMessage message : messages) {
      assertThat(WorkerMessage.parse(message.toJson().encode())).isEqualTo(message);
    }
  }

  @Test
  void routerMessagesSurviveTheirJsonForm() {
    List<RouterMessage> messages = List.of(
        new RouterMessage.Welcome("router-a", 2000, 8000, List.of(new RunningJob(JOB.jobId(), 2)), List.of()),
        new RouterMessage.Assign(JOB, List.of(new UploadSlot(0, "images/u/j/2-0.png", "http://s3/put?sig", 1L))),
        new RouterMessage.Cancel(JOB.jobId(), 2, "canceled by the user"),
        new RouterMessage.Revoke(JOB.jobId(), 2, "the attempt ahead of it overran"),
        new RouterMessage.Drain("node consolidation"));
    for (RouterMessage message : messages) {
      assertThat(RouterMessage.parse(message.toJson().encode())).isEqualTo(message);
    }
  }

  @Test
  void refusesMalformedFrames() {
    assertThatThrownBy(() -> WorkerMessage.parse("not json")).isInstanceOf(ProtocolException.class);
    assertThatThrownBy(() -> WorkerMessage.parse("{\"type\":\"explode\"}")).hasMessageContaining("explode");
    assertThatThrownBy(() -> WorkerMessage.parse("{\"type\":\"hello\",\"worker_id\":\"w\",\"gpu\":\"g\","
        + "\"vram_mb\":1,\"slots\":0}")).hasMessageContaining("slots");
    assertThatThrownBy(() -> WorkerMessage.parse("{\"type\":\"progress\",\"job_id\":\"j\",\"attempt\":\"one\","
        + "\"step\":1,\"total\":2}")).hasMessageContaining("attempt");
    assertThatThrownBy(() -> WorkerMessage.parse("{\"type\":\"progress\",\"job_id\":\"j\",\"attempt\":1,"
        + "\"step\":1,\"total\":2,\"preview\":\"javascript:alert(1)\"}")).hasMessageContaining("preview");
    assertThatThrownBy(() -> WorkerMessage.parse("{\"type\":\"result\",\"job_id\":\"j\",\"attempt\":1,"
        + "\"images\":[],\"load_ms\":-5,\"run_ms\":9}")).hasMessageContaining("load_ms");
  }

  @Test
  void aFailureReportIsKeptAsTheRouterCanStoreIt() {
    String frame = new WorkerMessage.Failure(JOB.jobId(), 2, "engine\u0000_error", "CUDA\u0000 out of memory "
        + "x".repeat(5000), true).toJson().encode();
    WorkerMessage.Failure parsed = (WorkerMessage.Failure) WorkerMessage.parse(frame);
    assertThat(parsed.code()).isEqualTo("engine_error");
    assertThat(parsed.message()).startsWith("CUDA out of memory xxx").doesNotContain("\u0000")
        .hasSize(WorkerMessage.Failure.MAX_MESSAGE).endsWith("\u2026");
    assertThat(((WorkerMessage.Failure) WorkerMessage.parse(new WorkerMessage.Failure(JOB.jobId(), 2, "x".repeat(100),
        null, true).toJson().encode())).code()).hasSize(WorkerMessage.Failure.MAX_CODE);
  }

  @Test
  void refusesImageKeysThatCannotBeStored() {
    for (String key : List.of("images/u/j/2-0\u0000.png", "k".repeat(1025))) {
      String frame = new WorkerMessage.Result(JOB.jobId(), 2, List.of(new ImageOutput(0, key, 64, 64, 1, 1,
          "ab".repeat(32))), null, 10).toJson().encode();
      assertThatThrownBy(() -> WorkerMessage.parse(frame)).isInstanceOf(ProtocolException.class)
          .hasMessageContaining("'key'");
    }
  }

  @Test
  void aWorkerWithoutAQueueSaysNothingOfIt() {
    String old = "{\"type\":\"hello\",\"worker_id\":\"w\",\"gpu\":\"g\",\"vram_mb\":1,\"slots\":1}";
    assertThat(((WorkerMessage.Hello) WorkerMessage.parse(old)).queue()).isZero();
    assertThat(new WorkerMessage.Hello(1, "w", "g", 1, 1, 1, List.of(), "e", List.of()).toJson().encode())
        .doesNotContain("queue");
    assertThatThrownBy(() -> WorkerMessage.parse(old.replace("}", ",\"queue\":9}"))).hasMessageContaining("queue");
    assertThatThrownBy(() -> WorkerMessage.parse(old.replace("}", ",\"queue\":-1}"))).hasMessageContaining("queue");
  }

  @Test
  void aResultOfAWorkerThatHeldTheModelCarriesNoLoadTime() {
    String held = new WorkerMessage.Result(JOB.jobId(), 2, List.of(), null, 900).toJson().encode();
    assertThat(held).doesNotContain("load_ms");
    assertThat(((WorkerMessage.Result) WorkerMessage.parse(held)).loadMs()).isNull();
    // a load that took under a millisecond is still a load
    WorkerMessage.Result instant = (WorkerMessage.Result) WorkerMessage.parse(
        new WorkerMessage.Result(JOB.jobId(), 2, List.of(), 0L, 900).toJson().encode());
    assertThat(instant.loadMs()).isZero();
  }

  @Test
  void anAssignNamesModelSourcesOnlyWhenItHasSome() {
    JobSpec cold = new JobSpec(JOB.jobId(), 2, "sdxl", "a fox", null, 1024, 768, 30, 6.5, 42, "euler_a",
        JOB.loras(), 2, 600_000, Map.of("sdxl", "s3://pingvas-models/sdxl.safetensors",
        "pixel-art", "s3://pingvas-models/loras/pixel-art.safetensors"));
    RouterMessage.Assign assign = new RouterMessage.Assign(cold, List.of());
    assertThat(((RouterMessage.Assign) RouterMessage.parse(assign.toJson().encode())).job().modelSources())
        .containsExactlyInAnyOrderEntriesOf(cold.modelSources());
    assertThat(new RouterMessage.Assign(JOB, List.of()).toJson().encode()).doesNotContain("model_sources");
    String frame = assign.toJson().encode();
    assertThatThrownBy(() -> RouterMessage.parse(frame.replace("\"s3://pingvas-models/sdxl.safetensors\"", "7")))
        .hasMessageContaining("model_sources.sdxl");
    assertThatThrownBy(() -> RouterMessage.parse(frame.replaceFirst("\"model_sources\":\\{[^}]*}",
        "\"model_sources\":[]"))).hasMessageContaining("model_sources");
  }
}
