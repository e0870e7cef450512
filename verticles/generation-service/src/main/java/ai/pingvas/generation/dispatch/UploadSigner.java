package ai.pingvas.generation.dispatch;

import ai.pingvas.platform.config.Config;
import ai.pingvas.protocol.UploadSlot;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Presigns one PUT URL per image of an attempt, each scoped to one object key, content type
 * {@code image/png} and a few minutes, so workers upload straight to S3 and image bytes never pass
 * through the router. Signing is local CPU work on the dispatcher's event loop, so it uses the AWS
 * SDK's SigV4 signer directly on a prepared request (query-string auth, unsigned payload, as S3
 * presigned URLs are) rather than the full S3 presigner, whose per-call endpoint and auth-scheme
 * resolution cost milliseconds.
 */
public final class UploadSigner implements AutoCloseable {
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsProvider credentials;
  private final String region;
  private final String bucket;
  private final Duration ttl;
  private final URI endpoint;
  private final boolean pathStyle;

  public UploadSigner(Config config) {
    String configured = config.optionalString("storage.public-endpoint");
    if (configured == null) {
      configured = config.optionalString("storage.endpoint");
    }
    this.region = config.string("storage.region");
    this.endpoint = URI.create(configured != null ? configured : "https://s3." + region + ".amazonaws.com");
    this.pathStyle = config.bool("storage.path-style");
    this.credentials = credentials(config);
    this.bucket = config.string("storage.bucket");
    this.ttl = config.duration("storage.upload-url-ttl");
  }

  static AwsCredentialsProvider credentials(Config config) {
    String accessKey = config.optionalString("storage.access-key");
    if (accessKey == null) {
      // refreshed in the background: slots() runs on the router's event loop, and a synchronous
      // refresh (an HTTP call to the pod-identity or STS endpoint) would stall the whole replica
      return DefaultCredentialsProvider.builder().asyncCredentialUpdateEnabled(true).build();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey,
        config.string("storage.secret-key")));
  }

  /** Resolves the credentials once, off the event loop, so the first dispatch does not. */
  public void prime() {
    credentials.resolveCredentials();
  }

  /** The object key of image {@code index} of an attempt. */
  public static String key(String userId, String jobId, int attempt, int index) {
    return "images/" + userId + "/" + jobId + "/" + attempt + "-" + index + ".png";
  }

  public List<UploadSlot> slots(String userId, String jobId, int attempt, int count) {
    List<UploadSlot> slots = new ArrayList<>(count);
    Instant expires = Instant.now().plus(ttl);
    AwsCredentialsIdentity identity = credentials.resolveCredentials();
    for (int i = 0; i < count; i++) {
      String key = key(userId, jobId, attempt, i);
      slots.add(new UploadSlot(i, key, presignPut(identity, key), expires.toEpochMilli()));
    }
    return slots;
  }

  private String presignPut(AwsCredentialsIdentity identity, String key) {
    String encodedKey = SdkHttpUtils.urlEncodeIgnoreSlashes(key);
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.PUT)
        .protocol(endpoint.getScheme()).port(endpoint.getPort())
        .putHeader("Content-Type", "image/png");
    if (pathStyle) {
      request.host(endpoint.getHost()).encodedPath("/" + bucket + "/" + encodedKey);
    } else {
      request.host(bucket + "." + endpoint.getHost()).encodedPath("/" + encodedKey);
    }
    return url(signer.sign(r -> r.identity(identity).request(request.build())
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
            .putProperty(AwsV4HttpSigner.REGION_NAME, region)
            .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, ttl)
            .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
            .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
            .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false))
        .request());
  }

  /**
   * The request's URL, as {@link SdkHttpRequest#getUri()} prints it but without building and
   * re-parsing a {@link URI} (a fifth of the signing cost).
   */
  static String url(SdkHttpRequest request) {
    StringBuilder url = new StringBuilder(512).append(request.protocol()).append("://").append(request.host());
    if (!SdkHttpUtils.isUsingStandardPort(request.protocol(), request.port())) {
      url.append(':').append(request.port());
    }
    url.append(request.encodedPath());
    SdkHttpUtils.encodeAndFlattenQueryParameters(request.rawQueryParameters()).ifPresent(q -> url.append('?').append(q));
    return url.toString();
  }

  @Override
  public void close() {
    if (credentials instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // nothing to release that matters at shutdown
      }
    }
  }
}
