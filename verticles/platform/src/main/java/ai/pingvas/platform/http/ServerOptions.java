package ai.pingvas.platform.http;

import io.vertx.core.http.HttpServerOptions;

/** The HTTP server options every Pingvas server starts from. */
public final class ServerOptions {
  private ServerOptions() {
  }

  /**
   * HTTP/1.1 with WebSockets; no cleartext HTTP/2 upgrade. A client that asks to upgrade (the JDK's
   * HttpClient does by default) is answered in HTTP/1.1. With the upgrade enabled, Vert.x 5.0.7 now
   * and then answered such a request with HTTP/1.1 bytes after agreeing to switch, which the client
   * read as HTTP/2 frames ("Frame type(101) length(7760227) exceeds MAX_FRAME_SIZE") — seen on
   * {@code /metrics} in tests. Nothing here needs h2c: ingress speaks HTTP/1.1 to the pods.
   */
  public static HttpServerOptions defaults() {
    return new HttpServerOptions().setHttp2ClearTextEnabled(false);
  }
}
