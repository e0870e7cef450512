package ai.pingvas.platform.config;

import java.net.InetAddress;

/** This process's host: in Kubernetes {@code HOSTNAME} is the pod's name, which makes ids readable. */
public final class Host {
  private Host() {
  }

  /** {@code HOSTNAME}, else the local host name, else {@code fallback}. */
  public static String name(String fallback) {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return fallback;
    }
  }

  /**
   * A new identity for this process among its service's replicas: {@code prefix} (else the host
   * name, else {@code fallback}) and 8 random hex digits, so a restarted pod is never taken for
   * its previous incarnation.
   */
  public static String replicaId(String prefix, String fallback) {
    return (prefix == null ? name(fallback) : prefix) + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
  }
}
