package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.storage.S3Uri;
import ai.pingvas.platform.storage.StorageCredentials;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Turns where the registry keeps a model ({@code s3://bucket/key}) into a source InvokeAI's
 * installer can fetch: a GET URL presigned with this worker's own credentials (its pod identity may
 * read the models bucket), valid {@code storage.model-url-ttl}; InvokeAI starts the download at
 * once, and a download under way outlives the URL. Other sources pass unchanged. Presigning is
 * local work, but resolving credentials may call the pod-identity endpoint, so it runs off the
 * event loop.
 */
public final class ModelDownloads implements AutoCloseable {
  private static final Pattern SIGNED_QUERY = Pattern.compile("(https?://[^\\s?\"']+)\\?[^\\s\"']*");
  private final Vertx vertx;
  private final AwsCredentialsProvider credentials;
  private final S3Presigner presigner;
  private final Duration ttl;

  public ModelDownloads(Vertx vertx, Config config) {
    this(vertx, config.string("storage.region"), config.optionalString("storage.endpoint"),
        config.bool("storage.path-style"), config.optionalString("storage.access-key"),
        config.optionalString("storage.secret-key"), config.duration("storage.model-url-ttl"));
  }

  public ModelDownloads(Vertx vertx, String region, String endpoint, boolean pathStyle, String accessKey,
      String secretKey, Duration ttl) {
    this.vertx = vertx;
    this.ttl = ttl;
    this.credentials = StorageCredentials.of(accessKey, secretKey);
    S3Presigner.Builder builder = S3Presigner.builder().region(Region.of(region)).credentialsProvider(credentials)
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build());
    if (endpoint != null && !endpoint.isEmpty()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    this.presigner = builder.build();
  }

  /** A source InvokeAI can install from: a presigned URL for {@code s3://}, anything else as it is. */
  public Future<String> fetchable(String source) {
    if (!S3Uri.is(source)) {
      return Future.succeededFuture(source);
    }
    S3Uri object;
    try {
      object = S3Uri.parse(source);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return vertx.executeBlocking(() -> presigner.presignGetObject(r -> r.signatureDuration(ttl)
        .getObjectRequest(get -> get.bucket(object.bucket()).key(object.key()))).url().toString(), false);
  }

  /**
   * The text without the query strings of its URLs: a presigned URL's signature must not reach a
   * job's error (users read it) or the logs, where it would grant the download until it expires.
   */
  public static String redact(String text) {
    return text == null ? null : SIGNED_QUERY.matcher(text).replaceAll("$1?\u2026");
  }

  @Override
  public void close() {
    presigner.close();
    StorageCredentials.close(credentials);
  }
}
