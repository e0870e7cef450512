package ai.pingvas.gallery.storage;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.storage.StorageCredentials;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The images bucket through the AWS SDK's async S3 client (works against AWS and the embedded
 * s3proxy). Results come back on the caller's Vert.x context.
 */
public final class ObjectStore implements AutoCloseable {
  private final S3AsyncClient client;
  private final S3Presigner presigner;
  private final AwsCredentialsProvider credentials;
  private final String bucket;
  private final Duration downloadTtl;

  /** Size and type of an existing object. */
  public record Head(long size, String contentType) {
  }

  private ObjectStore(S3AsyncClient client, S3Presigner presigner, AwsCredentialsProvider credentials, String bucket,
      Duration downloadTtl) {
    this.client = client;
    this.credentials = credentials;
    this.presigner = presigner;
    this.bucket = bucket;
    this.downloadTtl = downloadTtl;
  }

  public static ObjectStore fromConfig(Config config) {
    Region region = Region.of(config.string("storage.region"));
    AwsCredentialsProvider credentials = StorageCredentials.fromConfig(config);
    S3Configuration s3 = S3Configuration.builder().pathStyleAccessEnabled(config.bool("storage.path-style")).build();
    var clientBuilder = S3AsyncClient.builder().region(region).credentialsProvider(credentials)
        .serviceConfiguration(s3);
    String endpoint = config.optionalString("storage.endpoint");
    if (endpoint != null) {
      clientBuilder.endpointOverride(URI.create(endpoint));
    }
    String publicEndpoint = config.optionalString("storage.public-endpoint");
    var presignerBuilder = S3Presigner.builder().region(region).credentialsProvider(credentials)
        .serviceConfiguration(s3);
    if (publicEndpoint != null || endpoint != null) {
      presignerBuilder.endpointOverride(URI.create(publicEndpoint != null ? publicEndpoint : endpoint));
    }
    return new ObjectStore(clientBuilder.build(), presignerBuilder.build(), credentials,
        config.string("storage.bucket"), config.duration("storage.download-url-ttl"));
  }

  public String bucket() {
    return bucket;
  }

  /** The object's size and type, or null if there is no such object. */
  public Future<Head> head(Context context, String key) {
    return on(context, client.headObject(b -> b.bucket(bucket).key(key))
        .thenApply(r -> new Head(r.contentLength(), r.contentType()))
        .exceptionally(err -> {
          if (notFound(err)) {
            return null;
          }
          throw err instanceof CompletionException ce ? ce : new CompletionException(err);
        }));
  }

  /** Bytes {@code from}..{@code to} (inclusive) of an object. */
  public Future<byte[]> range(Context context, String key, long from, long to) {
    return on(context, client.getObject(b -> b.bucket(bucket).key(key).range("bytes=" + from + "-" + to),
        AsyncResponseTransformer.toBytes()).thenApply(bytes -> bytes.asByteArray()));
  }

  /** The whole object, or null if there is no such object. */
  public Future<byte[]> get(Context context, String key) {
    return on(context, client.getObject(b -> b.bucket(bucket).key(key), AsyncResponseTransformer.toBytes())
        .thenApply(bytes -> bytes.asByteArray())
        .exceptionally(err -> {
          if (notFound(err)) {
            return null;
          }
          throw err instanceof CompletionException ce ? ce : new CompletionException(err);
        }));
  }

  public Future<Void> put(Context context, String key, byte[] bytes, String contentType) {
    return on(context, client.putObject(b -> b.bucket(bucket).key(key).contentType(contentType),
        AsyncRequestBody.fromBytes(bytes)).thenApply(r -> null));
  }

  public Future<Void> delete(Context context, String key) {
    return on(context, client.deleteObject(b -> b.bucket(bucket).key(key)).thenApply(r -> null));
  }

  /** The keys under {@code prefix} (the first 1,000: one listing page). */
  public Future<List<String>> list(Context context, String prefix) {
    return on(context, client.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).maxKeys(1000))
        .thenApply(r -> r.contents().stream().map(o -> o.key()).toList()));
  }

  /** A presigned GET URL valid for the configured download TTL. */
  public String presignGet(String key) {
    return presigner.presignGetObject(b -> b.signatureDuration(downloadTtl)
        .getObjectRequest(r -> r.bucket(bucket).key(key))).url().toString();
  }

  public Duration downloadTtl() {
    return downloadTtl;
  }

  private static boolean notFound(Throwable err) {
    Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    return cause instanceof NoSuchKeyException
        || cause instanceof S3Exception s3 && s3.statusCode() == 404;
  }

  private static <T> Future<T> on(Context context, CompletableFuture<T> future) {
    return Future.fromCompletionStage(future, context);
  }

  @Override
  public void close() {
    client.close();
    presigner.close();
    StorageCredentials.close(credentials);
  }
}
