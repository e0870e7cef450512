package ai.pingvas.worker.engine.invokeai;

import ai.pingvas.embedded.S3Server;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** Model weights for tests: random bytes put into the embedded S3 through the S3 API, as an operator's upload. */
public final class ModelObjects {
  private ModelObjects() {
  }

  /** Puts {@code size} random bytes at {@code bucket/key} (a presigned PUT) and returns them. */
  public static byte[] put(String endpoint, String bucket, String key, int size) throws Exception {
    byte[] bytes = new byte[size];
    new Random(key.hashCode()).nextBytes(bytes);
    try (S3Presigner presigner = presigner(endpoint)) {
      URI url = presigner.presignPutObject(r -> r.signatureDuration(Duration.ofMinutes(5))
          .putObjectRequest(p -> p.bucket(bucket).key(key))).url().toURI();
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url)
          .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("S3 answered " + response.statusCode() + ": " + response.body());
      }
    }
    return bytes;
  }

  /** Deletes {@code bucket/key} (a presigned DELETE), as an operator's mistake would. */
  public static void delete(String endpoint, String bucket, String key) throws Exception {
    try (S3Presigner presigner = presigner(endpoint)) {
      URI url = presigner.presignDeleteObject(r -> r.signatureDuration(Duration.ofMinutes(5))
          .deleteObjectRequest(d -> d.bucket(bucket).key(key))).url().toURI();
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 204) {
        throw new IllegalStateException("S3 answered " + response.statusCode() + ": " + response.body());
      }
    }
  }

  /** Signs with the embedded S3's keys, as an operator's tools would. */
  private static S3Presigner presigner(String endpoint) {
    return S3Presigner.builder().region(Region.of(S3Server.REGION)).endpointOverride(URI.create(endpoint))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Server.ACCESS_KEY,
            S3Server.SECRET_KEY)))
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build();
  }

  public static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
