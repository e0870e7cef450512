package ai.pingvas.worker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads {@code nvidia-smi --query-gpu=name,memory.total,memory.used,utilization.gpu --format=csv}:
 * a header line, then one line per GPU such as {@code NVIDIA A10G, 23028 MiB, 1 MiB, 0 %}. Values
 * nvidia-smi cannot read are {@code [N/A]} or {@code [Not Supported]}: they parse as unknown (-1).
 */
public final class NvidiaSmi {
  public static final List<String> COMMAND_ARGS = List.of("--query-gpu=name,memory.total,memory.used,utilization.gpu",
      "--format=csv");

  private NvidiaSmi() {
  }

  /** One GPU's facts; -1 for a value nvidia-smi did not give. */
  public record Gpu(String name, int memoryTotalMb, int memoryUsedMb, int utilizationPercent) {
  }

  /** Parses the whole output; lines that are not GPU rows (the header, blanks) are skipped. */
  public static List<Gpu> parse(String output) {
    List<Gpu> gpus = new ArrayList<>();
    for (String raw : output.split("\\R")) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("name,")) {
        continue;
      }
      String[] fields = line.split(",");
      if (fields.length < 4) {
        continue;
      }
      int n = fields.length;
      String name = String.join(",", Arrays.copyOfRange(fields, 0, n - 3)).trim();
      gpus.add(new Gpu(name, number(fields[n - 3]), number(fields[n - 2]), number(fields[n - 1])));
    }
    return gpus;
  }

  private static int number(String field) {
    String digits = field.trim().replaceAll("\\s*(MiB|%)$", "");
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
