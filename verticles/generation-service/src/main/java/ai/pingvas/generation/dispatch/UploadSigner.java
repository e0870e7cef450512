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
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PutObjectPresignRequest;

/**
 * Presigns one PUT URL per image of an attempt, each scoped to one object key, content type
 * {@code image/png} and a few minutes, so workers upload straight to S3 and image bytes never pass
 * through the router. Signing is local CPU work (no network call).
 */
public final class UploadSigner implements AutoCloseable {
  private final S3Presigner presigner;
  private final String bucket;
  private final Duration ttl;

  public UploadSigner(Config config) {
    String endpoint = config.optionalString("storage.public-endpoint");
    if (endpoint == null) {
      endpoint = config.optionalString("storage.endpoint");
    }
    S3Presigner.Builder builder = S3Presigner.builder()
        .region(Region.of(config.string("storage.region")))
        .credentialsProvider(credentials(config))
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(config.bool("storage.path-style"))
            .build());
    if (endpoint != null) {
      builder.endpointOverride(URI.create(endpoint));
    }
    this.presigner = builder.build();
    this.bucket = config.string("storage.bucket");
    this.ttl = config.duration("storage.upload-url-ttl");
  }

  static AwsCredentialsProvider credentials(Config config) {
    String accessKey = config.optionalString("storage.access-key");
    if (accessKey == null) {
      return DefaultCredentialsProvider.builder().build();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey,
        config.string("storage.secret-key")));
  }

  /** The object key of image {@code index} of an attempt. */
  public static String key(String userId, String jobId, int attempt, int index) {
    return "images/" + userId + "/" + jobId + "/" + attempt + "-" + index + ".png";
  }

  public List<UploadSlot> slots(String userId, String jobId, int attempt, int count) {
    List<UploadSlot> slots = new ArrayList<>(count);
    Instant expires = Instant.now().plus(ttl);
    for (int i = 0; i < count; i++) {
      String key = key(userId, jobId, attempt, i);
      PutObjectRequest put = PutObjectRequest.builder().bucket(bucket).key(key).contentType("image/png").build();
      String url = presigner.presignPutObject(PutObjectPresignRequest.builder().signatureDuration(ttl)
          .putObjectRequest(put).build()).url().toString();
      slots.add(new UploadSlot(i, key, url, expires.toEpochMilli()));
    }
    return slots;
  }

  @Override
  public void close() {
    presigner.close();
  }
}
