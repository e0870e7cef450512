package ai.pingvas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.config.ConfigLoader;
import ai.pingvas.platform.launch.ServiceRuntime;
import ai.pingvas.testing.Http;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
  void aRouterThatTakesTheConnectionThenFallsSilentIsLeftAndDialledAgain() throws Exception {
    // a router that completes the WebSocket upgrade and then says nothing, not even a pong: frozen,
    // or gone without a FIN (a real server answers pings by itself, so this one is a bare socket)
    List<Socket> accepted = new CopyOnWriteArrayList<>();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket socket = server.accept();
            upgrade(socket);
            accepted.add(socket);
          } catch (Exception e) {
            return;
          }
        }
      }, "silent-router");
      acceptor.setDaemon(true);
      acceptor.start();
      start(Map.of("PINGVAS_WORKER_ROUTER_URL", "ws://127.0.0.1:" + server.getLocalPort() + "/v1/workers/connect",
          "PINGVAS_WORKER_DISCONNECT_ABORT", "1s", "PINGVAS_WORKER_RECONNECT_MIN", "100ms",
          "PINGVAS_WORKER_RECONNECT_MAX", "200ms"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (accepted.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(accepted).as("the worker gave the silent connection up and dialled again").hasSizeGreaterThanOrEqualTo(2);
      // the worker closed the first connection: after its hello and pings comes a close frame
      Socket first = accepted.get(0);
      first.setSoTimeout(5_000);
      assertThat(opcodesUntilClose(first.getInputStream())).startsWith(OPCODE_TEXT).contains(OPCODE_PING)
          .endsWith(OPCODE_CLOSE);
    } finally {
      for (Socket socket : accepted) {
        socket.close();
      }
    }
  }

  private static final int OPCODE_TEXT = 0x1;
  private static final int OPCODE_CLOSE = 0x8;
  private static final int OPCODE_PING = 0x9;

  /** The opcodes of the frames a client sent (RFC 6455 §5.2), up to and including its close frame. */
  private static List<Integer> opcodesUntilClose(InputStream in) throws Exception {
    List<Integer> opcodes = new java.util.ArrayList<>();
    DataInputStream frames = new DataInputStream(in);
    while (opcodes.isEmpty() || opcodes.get(opcodes.size() - 1) != OPCODE_CLOSE) {
      int opcode = frames.readUnsignedByte() & 0x0f;
      int second = frames.readUnsignedByte();
      long length = second & 0x7f;
      if (length == 126) {
        length = frames.readUnsignedShort();
      } else if (length == 127) {
        length = frames.readLong();
      }
      frames.skipNBytes(((second & 0x80) != 0 ? 4 : 0) + length); // the mask key, then the payload
      opcodes.add(opcode);
    }
    return opcodes;
  }

  /** Answers a WebSocket upgrade request (RFC 6455 §4.2.2) and nothing after it. */
  private static void upgrade(Socket socket) throws Exception {
    BufferedReader reader = new BufferedReader(new InputStreamReader(socket.getInputStream(),
        StandardCharsets.ISO_8859_1));
    String key = null;
    for (String line = reader.readLine(); line != null && !line.isEmpty(); line = reader.readLine()) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-key:")) {
        key = line.substring(line.indexOf(':') + 1).trim();
      }
    }
    String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
    socket.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
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
