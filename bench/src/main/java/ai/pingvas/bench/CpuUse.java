package ai.pingvas.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Where a machine's CPU went during a measurement window, per process group, from Linux's
 * {@code /proc} (user + system time in clock ticks): the router, Postgres (the postmaster, its live
 * backends and the children it reaped), Kafka, the simulated fleet, user-service and this JVM (the
 * load generator and harness). What the groups do not account for is the rest of the machine.
 *
 * <p>Every scenario shares two cores, so this is what says which process limits a figure, and what
 * one job costs each of them (CPU microseconds per accepted job).
 */
final class CpuUse {
  /** USER_HZ: Linux reports /proc times in 1/100 s on every architecture Java runs on here. */
  private static final double TICKS_PER_SECOND = 100.0;

  private final Map<String, LongSupplier> groups = new LinkedHashMap<>();
  private Map<String, Long> start;
  private long machineStart;
  private long machineIdleStart;
  private long t0;

  /** A group that is one process (and nothing it forks). */
  CpuUse process(String name, long pid) {
    groups.put(name, () -> ticks(pid, false));
    return this;
  }

  /** A group that is a process tree: the process, its live children and the children it reaped. */
  CpuUse tree(String name, long pid) {
    groups.put(name, () -> {
      long total = ticks(pid, true);
      for (long child : children(pid)) {
        total += ticks(child, false);
      }
      return total;
    });
    return this;
  }

  /** Starts the window. */
  CpuUse start() {
    start = new LinkedHashMap<>();
    groups.forEach((name, ticks) -> start.put(name, ticks.getAsLong()));
    long[] machine = machine();
    machineStart = machine[0];
    machineIdleStart = machine[1];
    t0 = System.nanoTime();
    return this;
  }

  /**
   * Ends the window: cores used by each group (CPU seconds per second), the machine's busy cores,
   * the unaccounted rest, and each group's CPU microseconds per unit of {@code work} (e.g. per
   * accepted job).
   */
  JsonObject stop(long work) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    long[] machine = machine();
    JsonObject cores = new JsonObject();
    JsonObject perJob = new JsonObject();
    double accounted = 0;
    for (Map.Entry<String, LongSupplier> group : groups.entrySet()) {
      long ticks = Math.max(0, group.getValue().getAsLong() - start.get(group.getKey()));
      double cpuSeconds = ticks / TICKS_PER_SECOND;
      accounted += cpuSeconds;
      cores.put(group.getKey(), Bench.round(cpuSeconds / seconds));
      perJob.put(group.getKey(), Bench.round(work > 0 ? cpuSeconds * 1e6 / work : 0));
    }
    double busy = (machine[0] - machineStart - (machine[1] - machineIdleStart)) / TICKS_PER_SECOND;
    cores.put("other", Bench.round(Math.max(0, busy - accounted) / seconds));
    perJob.put("all", Bench.round(work > 0 ? busy * 1e6 / work : 0));
    return new JsonObject().put("seconds", Bench.round(seconds))
        .put("cpus", Runtime.getRuntime().availableProcessors())
        .put("machine_busy_cores", Bench.round(busy / seconds))
        .put("cores", cores).put("cpu_us_per_job", perJob);
  }

  /** utime + stime of a process (plus its reaped children's with {@code reaped}); 0 once it is gone. */
  static long ticks(long pid, boolean reaped) {
    String[] f = statFields(pid);
    if (f == null) {
      return 0;
    }
    // after "pid (comm)": field 14 utime, 15 stime, 16 cutime, 17 cstime (1-based, as in proc(5))
    long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return reaped ? own + Long.parseLong(f[13]) + Long.parseLong(f[14]) : own;
  }

  /** The fields after {@code (comm)}, so index 0 is proc(5)'s field 3 (state); null if gone. */
  private static String[] statFields(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // comm may hold spaces and parentheses: the fields start after the last ')'
      return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static List<Long> children(long pid) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
          .map(Long::parseLong).filter(p -> {
            String[] f = statFields(p);
            return f != null && Long.parseLong(f[1]) == pid;
          }).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The machine's total and idle (idle + iowait) ticks from /proc/stat. */
  private static long[] machine() {
    try {
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      // user nice system idle iowait irq softirq steal (guest time is already in user)
      for (int i = 1; i <= Math.min(8, cpu.length - 1); i++) {
        total += Long.parseLong(cpu[i]);
      }
      return new long[] {total, Long.parseLong(cpu[4]) + Long.parseLong(cpu[5])};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }
}
