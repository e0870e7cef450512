package ai.pingvas.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3-compatible endpoint (s3proxy) storing objects as files under a directory. It checks AWS
 * SigV4 signatures, presigned URLs included, so clients are exercised as against AWS.
 */
public final class S3Server implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(S3Server.class);
  public static final String ACCESS_KEY = "pingvas-dev";
  public static final String SECRET_KEY = "pingvas-dev-secret";
  public static final String REGION = "us-east-1";

  private final S3Proxy proxy;
  private final int port;

  private S3Server(S3Proxy proxy, int port) {
    this.proxy = proxy;
    this.port = port;
  }

  /** Starts the endpoint on {@code port} (0 = any) and creates the buckets if missing. */
  public static S3Server start(Path dir, int port, List<String> buckets) {
    int actualPort = port > 0 ? port : Ports.free();
    try {
      Files.createDirectories(dir);
      BlobStore store = new FilesystemNio2BlobStore(dir.toAbsolutePath().toString());
      for (String bucket : buckets) {
        if (!store.containerExists(bucket)) {
          store.createContainer(bucket);
        }
      }
      S3Proxy proxy = S3Proxy.builder()
          .blobStore(store)
          .endpoint(URI.create("http://127.0.0.1:" + actualPort))
          .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
          .ignoreUnknownHeaders(true)
          .jettyMaxThreads(32)
          .build();
      proxy.start();
      Ports.awaitAccepting(actualPort, java.time.Duration.ofSeconds(30), "embedded S3");
      LOG.info("embedded S3 ready on http://127.0.0.1:{} ({})", actualPort, dir);
      return new S3Server(proxy, actualPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException("embedded S3 failed to start: " + e.getMessage(), e);
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    try {
      proxy.stop();
    } catch (Exception e) {
      LOG.warn("embedded S3 did not stop cleanly: {}", e.getMessage());
    }
  }
}
