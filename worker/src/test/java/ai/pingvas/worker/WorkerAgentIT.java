package ai.pingvas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.testing.Http;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker process as configured in production: GPU facts from nvidia-smi, exported as metrics. */
class WorkerAgentIT {
  private ServiceRuntime runtime;

  @AfterEach
  void stop() {
    if (runtime != null) {
      runtime.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private String start(Map<String, String> overrides) throws Exception {
    int port = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("PINGVAS_HTTP_PORT", Integer.toString(port));
    env.put("PINGVAS_WORKER_ID", "agent-it");
    env.put("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + freePort() + "/v1/workers/connect");
    env.put("PINGVAS_WORKER_TOKEN", "t");
    env.put("PINGVAS_WORKER_EXIT_WHEN_DRAINED", "false");
    env.put("PINGVAS_SHUTDOWN_GRACE", "1s");
    env.putAll(overrides);
    runtime = ServiceRuntime.create(WorkerAgent.NAME, ConfigLoader.load("/worker-defaults.yaml", env), 1);
    WorkerAgent.start(runtime, null).toCompletionStage().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    HttpClient http = Http.client();
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    return metrics.body();
  }

  @Test
  void takesGpuFactsFromNvidiaSmiAndExportsThem(@TempDir Path dir) throws Exception {
    Path smi = dir.resolve("nvidia-smi");
    Files.writeString(smi, """
        #!/bin/sh
        echo 'name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]'
        echo 'NVIDIA A10G, 23028 MiB, 5028 MiB, 42 %'
        """);
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    String metrics = start(Map.of("PINGVAS_GPU_NVIDIA_SMI", smi.toString()));
    assertThat(metrics).containsPattern("pingvas_worker_gpu_memory_total_mb\\{.*gpu=\"NVIDIA A10G\".*\\} 23028");
    assertThat(metrics).containsPattern("pingvas_worker_gpu_memory_used_mb\\{.*\\} 5028");
    assertThat(metrics).containsPattern("pingvas_worker_gpu_utilization_ratio\\{.*\\} 0.42");
  }

  @Test
  void aHungNvidiaSmiIsKilledAfterItsTimeoutAndTheConfiguredFactsServe(@TempDir Path dir) throws Exception {
    // nvidia-smi commonly hangs on a faulted GPU: it used to hold a worker thread until it exited, and a
    // new one was started every poll; it is now given 10 s
    Path smi = dir.resolve("nvidia-smi");
    Path pid = dir.resolve("pid");
    Files.writeString(smi, "#!/bin/sh\necho $$ > " + pid + "\nexec sleep 120\n");
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    long started = System.nanoTime();
    String metrics = start(Map.of("PINGVAS_GPU_NVIDIA_SMI", smi.toString(),
        "PINGVAS_WORKER_GPU_NAME", "L4 (configured)", "PINGVAS_WORKER_VRAM_MB", "23034"));
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(19));
    assertThat(metrics).containsPattern("pingvas_worker_gpu_memory_total_mb\\{.*gpu=\"L4 \\(configured\\)\".*\\} 23034");
    long hung = Long.parseLong(Files.readString(pid).trim());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(hung).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(ProcessHandle.of(hung).map(ProcessHandle::isAlive).orElse(false)).as("the hung nvidia-smi").isFalse();
  }

  @Test
  void fallsBackToConfiguredFactsWithoutNvidiaSmi(@TempDir Path dir) throws Exception {
    String metrics = start(Map.of("PINGVAS_GPU_NVIDIA_SMI", dir.resolve("absent").toString(),
        "PINGVAS_WORKER_GPU_NAME", "L4 (configured)", "PINGVAS_WORKER_VRAM_MB", "23034"));
    assertThat(metrics).containsPattern("pingvas_worker_gpu_memory_total_mb\\{.*gpu=\"L4 \\(configured\\)\".*\\} 23034");
  }
}
