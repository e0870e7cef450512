package ai.pingvas.generation.domain;

/** A service tier's share of the fleet (weight) and per-user caps. */
public record Tier(String name, double weight, int maxRunning, int maxQueued) {
  public Tier {
    if (weight <= 0) {
      throw new IllegalArgumentException("tier " + name + " weight must be positive");
    }
    if (maxRunning < 1 || maxQueued < 1) {
      throw new IllegalArgumentException("tier " + name + " caps must be at least 1");
    }
  }
}
