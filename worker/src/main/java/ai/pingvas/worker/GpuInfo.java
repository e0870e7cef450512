package ai.pingvas.worker;

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
}
