package ai.pingvas.worker;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the worker tells the router about its accelerator. */
public interface GpuInfo {
  String name();

  int vramMb();

  int vramFreeMb();

  /** Utilisation from 0 to 1. */
  double utilization();

  /** Fixed facts from configuration (no GPU, or no nvidia-smi). */
  static GpuInfo fixed(String name, int vramMb) {
    return new GpuInfo() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int vramMb() {
        return vramMb;
      }

      @Override
      public int vramFreeMb() {
        return vramMb;
      }

      @Override
      public double utilization() {
        return 0;
      }
    };
  }

  /**
   * The GPU as {@code nvidia-smi} reports it (GPU {@code index} of its list), refreshed every
   * {@code every} off the event loop; the fallback's facts when the command is absent or fails.
   */
  static Future<GpuInfo> detect(Vertx vertx, String command, int index, Duration every, GpuInfo fallback) {
    Smi smi = new Smi(command, index, fallback);
    return vertx.executeBlocking(smi::refresh, false).map(found -> {
      if (found) {
        vertx.setPeriodic(Math.max(1_000, every.toMillis()), id -> vertx.executeBlocking(smi::refresh, false));
        return smi;
      }
      return fallback;
    });
  }

  /** Exports the facts as gauges. */
  static void bind(GpuInfo gpu, MeterRegistry registry) {
    Gauge.builder("pingvas_worker_gpu_memory_total_mb", gpu, GpuInfo::vramMb).tag("gpu", gpu.name())
        .description("GPU memory").register(registry);
    Gauge.builder("pingvas_worker_gpu_memory_used_mb", gpu, g -> g.vramMb() - g.vramFreeMb()).tag("gpu", gpu.name())
        .description("GPU memory in use").register(registry);
    Gauge.builder("pingvas_worker_gpu_utilization_ratio", gpu, GpuInfo::utilization).tag("gpu", gpu.name())
        .description("GPU utilisation, 0 to 1").register(registry);
  }

  /** nvidia-smi backed facts; the latest successful reading wins. */
  final class Smi implements GpuInfo {
    private static final Logger LOG = LoggerFactory.getLogger(GpuInfo.class);
    private final String command;
    private final int index;
    private final GpuInfo fallback;
    private volatile NvidiaSmi.Gpu last;

    Smi(String command, int index, GpuInfo fallback) {
      this.command = command;
      this.index = index;
      this.fallback = fallback;
    }

    /** Runs nvidia-smi once (blocking); true if it described our GPU. */
    boolean refresh() {
      List<String> argv = new ArrayList<>();
      argv.add(command);
      argv.addAll(NvidiaSmi.COMMAND_ARGS);
      try {
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        // wait first, then read: its few lines fit the pipe's buffer, and a hung nvidia-smi (common on
        // a faulted GPU) must not hold this thread, nor live on, past the timeout
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          return false;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
          return false;
        }
        List<NvidiaSmi.Gpu> gpus = NvidiaSmi.parse(output);
        if (gpus.size() <= index) {
          return false;
        }
        last = gpus.get(index);
        return true;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (RuntimeException e) {
        LOG.debug("nvidia-smi failed: {}", e.toString());
        return false;
      }
    }

    @Override
    public String name() {
      NvidiaSmi.Gpu gpu = last;
      return gpu == null ? fallback.name() : gpu.name();
    }

    @Override
    public int vramMb() {
      NvidiaSmi.Gpu gpu = last;
      return gpu == null || gpu.memoryTotalMb() < 0 ? fallback.vramMb() : gpu.memoryTotalMb();
    }

    @Override
    public int vramFreeMb() {
      NvidiaSmi.Gpu gpu = last;
      if (gpu == null || gpu.memoryUsedMb() < 0) {
        return fallback.vramFreeMb();
      }
      return Math.max(0, vramMb() - gpu.memoryUsedMb());
    }

    @Override
    public double utilization() {
      NvidiaSmi.Gpu gpu = last;
      return gpu == null || gpu.utilizationPercent() < 0 ? 0 : gpu.utilizationPercent() / 100.0;
    }
  }
}
