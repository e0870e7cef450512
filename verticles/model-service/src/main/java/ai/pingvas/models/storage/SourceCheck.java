package ai.pingvas.models.storage;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.http.ApiException;
import ai.pingvas.platform.storage.S3Uri;
import ai.pingvas.platform.storage.StorageCredentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Before a model is registered or changed, its {@code source} must be an object this service can
 * read (a HEAD with its own credentials, which the Terraform role limits to the models bucket, as
 * the workers' is): a model whose weights are missing would otherwise be accepted, offered to users
 * and fail every job on it when a worker tries to install it. Missing or unreadable weights are a
 * 422 naming the source; S3 not answering is a 503 (the registration can be retried).
 */
public final class SourceCheck implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SourceCheck.class);
  private final S3AsyncClient client;
  private final AwsCredentialsProvider credentials;
  private final String region;
  private final MeterRegistry registry;

  private SourceCheck(S3AsyncClient client, AwsCredentialsProvider credentials, String region,
      MeterRegistry registry) {
    this.client = client;
    this.credentials = credentials;
    this.region = region;
    this.registry = registry;
  }

  /** From {@code storage.*}; null when {@code storage.check-sources} is off. */
  public static SourceCheck fromConfig(Config config, MeterRegistry registry) {
    if (!config.bool("storage.check-sources")) {
      return null;
    }
    String region = config.string("storage.region");
    Duration timeout = config.duration("storage.check-timeout");
    AwsCredentialsProvider credentials = StorageCredentials.fromConfig(config);
    var builder = S3AsyncClient.builder().region(Region.of(region)).credentialsProvider(credentials)
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(config.bool("storage.path-style"))
            .build())
        .overrideConfiguration(o -> o.apiCallTimeout(timeout));
    String endpoint = config.optionalString("storage.endpoint");
    if (endpoint != null) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return new SourceCheck(builder.build(), credentials, region, registry);
  }

  /** The object's size in bytes; fails with the {@link ApiException} to answer when it cannot be used. */
  public Future<Long> check(Context context, String source) {
    Location at;
    try {
      at = Location.of(source);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    return Future.fromCompletionStage(client.headObject(b -> b.bucket(at.bucket()).key(at.key()))
            .thenApply(head -> head.contentLength()), context)
        .transform(ar -> {
          ApiException problem = ar.succeeded() ? null : problem(source, ar.cause(), region);
          count(ar.succeeded() ? "found" : problem.status() == 503 ? "unavailable" : problem.code());
          if (problem != null && problem.status() == 503) {
            LOG.atWarn().addKeyValue("source", source).addKeyValue("error", String.valueOf(ar.cause()))
                .log("cannot look at a model source");
          }
          return problem == null ? Future.succeededFuture(ar.result()) : Future.failedFuture(problem);
        });
  }

  private void count(String outcome) {
    Counter.builder("pingvas_models_source_checks_total")
        .description("model sources looked at before a registration or change, by outcome").tag("outcome", outcome)
        .register(registry).increment();
  }

  /** What to answer for a failed HEAD of {@code source}. */
  static ApiException problem(String source, Throwable err, String region) {
    Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (cause instanceof NoSuchKeyException || cause instanceof NoSuchBucketException
        || cause instanceof S3Exception s3 && s3.statusCode() == 404) {
      return ApiException.unprocessable("model_source_missing", "there are no weights at " + source
          + ": upload them there first, then register the model");
    }
    if (cause instanceof S3Exception s3 && s3.statusCode() == 403) {
      return ApiException.unprocessable("model_source_unreadable", source + " cannot be read with the "
          + "registry's storage credentials (403), so workers cannot read it either: put the weights in the "
          + "models bucket");
    }
    if (cause instanceof S3Exception s3 && (s3.statusCode() == 301 || s3.statusCode() == 400)) {
      return ApiException.unprocessable("model_source_unreadable", "S3 answered " + s3.statusCode() + " for "
          + source + ": is its bucket in " + region + "?");
    }
    // S3 unreachable, timed out or failing (5xx): nothing is known about the source
    return ApiException.unavailable("storage_unavailable", "could not look at " + source
        + " in storage; try again shortly", 5);
  }

  /** Bucket and key of an {@code s3://bucket/key} source (the contract's pattern admits no other). */
  record Location(String bucket, String key) {
    static Location of(String source) {
      try {
        S3Uri object = S3Uri.parse(source);
        return new Location(object.bucket(), object.key());
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("invalid_source", e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    client.close();
    StorageCredentials.close(credentials);
  }
}
