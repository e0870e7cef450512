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
}
