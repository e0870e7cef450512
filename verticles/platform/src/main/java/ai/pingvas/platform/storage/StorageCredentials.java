package ai.pingvas.platform.storage;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.config.ConfigException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The credentials a service signs its S3 requests with: {@code storage.access-key} and
 * {@code storage.secret-key} when set (the embedded S3, MinIO), else the default AWS chain (EKS Pod
 * Identity in Kubernetes). The chain is refreshed in the background: services sign on the event
 * loop, and a synchronous refresh (an HTTP call to the pod-identity or STS endpoint) would stall
 * every request of the replica meanwhile.
 *
 * <p>Only services that talk to S3 use this; they bring the AWS SDK (platform declares it optional).
 */
public final class StorageCredentials {
  private StorageCredentials() {
  }

  public static AwsCredentialsProvider fromConfig(Config config) {
    return of(config.optionalString("storage.access-key"), config.optionalString("storage.secret-key"));
  }

  /**
   * Static credentials when {@code accessKey} is set (then a secret key is required: without one every
   * request would be refused as if access were denied), else the default chain.
   */
  public static AwsCredentialsProvider of(String accessKey, String secretKey) {
    if (accessKey == null || accessKey.isEmpty()) {
      return DefaultCredentialsProvider.builder().asyncCredentialUpdateEnabled(true).build();
    }
    if (secretKey == null || secretKey.isEmpty()) {
      throw new ConfigException("storage.access-key is set but storage.secret-key is not");
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
  }

  /**
   * Releases a provider made here: the SDK closes only the providers it made itself, and the
   * default chain refreshes in the background until closed.
   */
  public static void close(AwsCredentialsProvider credentials) {
    if (credentials instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // nothing to release that matters at shutdown
      }
    }
  }
}
