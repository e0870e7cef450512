package ai.pingvas.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NvidiaSmiTest {
  @Test
  void parsesOneGpuAsNvidiaSmiPrintsIt() {
    String output = """
        name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]
        NVIDIA A10G, 23028 MiB, 18 MiB, 0 %
        """;
    assertThat(NvidiaSmi.parse(output)).containsExactly(new NvidiaSmi.Gpu("NVIDIA A10G", 23028, 18, 0));
  }

  @Test
  void parsesEveryGpuOfAMultiGpuHost() {
    String output = "name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]\r\n"
        + "NVIDIA GeForce RTX 4090, 24564 MiB, 21345 MiB, 97 %\r\n"
        + "NVIDIA H100 80GB HBM3, 81559 MiB, 4 MiB, 0 %\r\n";
    List<NvidiaSmi.Gpu> gpus = NvidiaSmi.parse(output);
    assertThat(gpus).hasSize(2);
    assertThat(gpus.get(0)).isEqualTo(new NvidiaSmi.Gpu("NVIDIA GeForce RTX 4090", 24564, 21345, 97));
    assertThat(gpus.get(1).name()).isEqualTo("NVIDIA H100 80GB HBM3");
    assertThat(gpus.get(1).memoryTotalMb()).isEqualTo(81559);
  }

  @Test
  void valuesNvidiaSmiCannotReadAreUnknown() {
    String output = """
        name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]
        NVIDIA GRID T4-16Q, 16384 MiB, [N/A], [Not Supported]
        """;
    assertThat(NvidiaSmi.parse(output)).containsExactly(new NvidiaSmi.Gpu("NVIDIA GRID T4-16Q", 16384, -1, -1));
  }

  @Test
  void ignoresAnythingThatIsNotAGpuRow() {
    assertThat(NvidiaSmi.parse("")).isEmpty();
    assertThat(NvidiaSmi.parse("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."))
        .isEmpty();
  }
}
