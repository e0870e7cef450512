package ai.pingvas.generation.dispatch;

import ai.pingvas.platform.config.Config;
import ai.pingvas.platform.storage.StorageCredentials;
import ai.pingvas.protocol.UploadSlot;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Presigns one PUT URL per image of an attempt, each scoped to one object key, content type
 * {@code image/png} and a few minutes, so workers upload straight to S3 and image bytes never pass
 * through the router. Signing is local CPU work on the dispatcher's event loop, once per job, so it
 * is SigV4 query-string signing written out (unsigned payload, as S3 presigned URLs are) with the
 * day's signing key cached, rather than the AWS SDK's general signer, whose per-call request
 * building and property maps cost 7 % of a loaded router's CPU. {@code UploadSignerTest} checks
 * every URL against the SDK's signer.
 */
public final class UploadSigner implements AutoCloseable {
  private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
      .withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  /** How long a failed credentials lookup stands before the next dispatch tries again. */
  static final long CREDENTIALS_RETRY_MS = 5_000;
  private final AwsCredentialsProvider credentials;
  private final String region;
  private final Duration ttl;
  private final Clock clock;
  /** host[:port] as signed: the port only when it is not the scheme's default. */
  private final String hostHeader;
  private final String urlPrefix;
  private final String pathPrefix;
  private final Mac mac;
  private final MessageDigest sha256;
  /** The secret and day the cached signing key was derived for. */
  private String keySecret;
  private String keyDate;
  /** Initialised with the cached signing key (doFinal leaves it ready for the next URL). */
  private final Mac signer;
  /** The last failed credentials lookup and when, so a missing identity is not looked up per job. */
  private RuntimeException credentialsFailure;
  private long credentialsFailedAtMs;

  public UploadSigner(Config config) {
    this(config, Clock.systemUTC(), StorageCredentials.fromConfig(config));
  }

  UploadSigner(Config config, Clock clock, AwsCredentialsProvider credentials) {
    String configured = config.optionalString("storage.public-endpoint");
    if (configured == null) {
      configured = config.optionalString("storage.endpoint");
    }
    this.region = config.string("storage.region");
    URI endpoint = URI.create(configured != null ? configured : "https://s3." + region + ".amazonaws.com");
    boolean pathStyle = config.bool("storage.path-style");
    String bucket = config.string("storage.bucket");
    this.credentials = credentials;
    this.ttl = config.duration("storage.upload-url-ttl");
    this.clock = clock;
    String host = pathStyle ? endpoint.getHost() : bucket + "." + endpoint.getHost();
    boolean standardPort = endpoint.getPort() == -1 || SdkHttpUtils.isUsingStandardPort(endpoint.getScheme(),
        endpoint.getPort());
    this.hostHeader = standardPort ? host : host + ":" + endpoint.getPort();
    this.urlPrefix = endpoint.getScheme() + "://" + hostHeader;
    this.pathPrefix = pathStyle ? "/" + SdkHttpUtils.urlEncodeIgnoreSlashes(bucket) + "/" : "/";
    try {
      this.mac = Mac.getInstance("HmacSHA256");
      this.sha256 = MessageDigest.getInstance("SHA-256");
      this.signer = Mac.getInstance("HmacSHA256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM lacks HmacSHA256 / SHA-256", e);
    }
  }

  /** Resolves the credentials once, off the event loop, so the first dispatch does not. */
  public void prime() {
    credentials.resolveCredentials();
  }

  /** The object key of image {@code index} of an attempt. */
  public static String key(String userId, String jobId, int attempt, int index) {
    return "images/" + userId + "/" + jobId + "/" + attempt + "-" + index + ".png";
  }

  /** Synchronized for the MAC, digest and cached key it reuses (uncontended: the dispatcher's loop calls it). */
  public synchronized List<UploadSlot> slots(String userId, String jobId, int attempt, int count) {
    List<UploadSlot> slots = new ArrayList<>(count);
    Instant now = clock.instant();
    long expires = now.plus(ttl).toEpochMilli();
    AwsCredentialsIdentity identity = identity(now.toEpochMilli());
    for (int i = 0; i < count; i++) {
      String key = key(userId, jobId, attempt, i);
      slots.add(new UploadSlot(i, key, presignPut(identity, key, now), expires));
    }
    return slots;
  }

  /**
   * The credentials, or the last lookup's failure again for {@link #CREDENTIALS_RETRY_MS}: a lookup
   * runs the provider chain, which calls the pod-identity or instance endpoint when nothing
   * resolved, on the dispatcher's event loop; once per job while credentials are missing, each
   * such stall would hold up every other dispatch.
   */
  private AwsCredentialsIdentity identity(long nowMs) {
    if (credentialsFailure != null && nowMs - credentialsFailedAtMs < CREDENTIALS_RETRY_MS) {
      throw new IllegalStateException("no storage credentials (looked up " + (nowMs - credentialsFailedAtMs)
          + " ms ago: " + credentialsFailure.getMessage() + ")", credentialsFailure);
    }
    try {
      AwsCredentialsIdentity identity = credentials.resolveCredentials();
      credentialsFailure = null;
      return identity;
    } catch (RuntimeException e) {
      credentialsFailure = e;
      credentialsFailedAtMs = nowMs;
      throw e;
    }
  }

  private String presignPut(AwsCredentialsIdentity identity, String key, Instant now) {
    String amzDate = AMZ_DATE.format(now);
    String date = amzDate.substring(0, 8);
    String scope = date + "/" + region + "/s3/aws4_request";
    String path = pathPrefix + SdkHttpUtils.urlEncodeIgnoreSlashes(key);
    // the canonical query: its parameters sorted by name, names and values URI-encoded
    StringBuilder query = new StringBuilder(512)
        .append("X-Amz-Algorithm=AWS4-HMAC-SHA256")
        .append("&X-Amz-Credential=").append(SdkHttpUtils.urlEncode(identity.accessKeyId() + "/" + scope))
        .append("&X-Amz-Date=").append(amzDate)
        .append("&X-Amz-Expires=").append(ttl.toSeconds());
    if (identity instanceof AwsSessionCredentialsIdentity session) {
      query.append("&X-Amz-Security-Token=").append(SdkHttpUtils.urlEncode(session.sessionToken()));
    }
    query.append("&X-Amz-SignedHeaders=content-type%3Bhost");
    String canonicalRequest = "PUT\n" + path + "\n" + query + "\ncontent-type:image/png\nhost:" + hostHeader
        + "\n\ncontent-type;host\nUNSIGNED-PAYLOAD";
    String stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
        + HEX.formatHex(sha256.digest(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    String signature = HEX.formatHex(signer(identity, date).doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
    return urlPrefix + path + "?" + query + "&X-Amz-Signature=" + signature;
  }

  /**
   * A MAC keyed with the day's signing key for these credentials (HMAC chain over date, region,
   * service), derived and initialised once a day instead of once per URL.
   */
  private Mac signer(AwsCredentialsIdentity identity, String date) {
    String secret = identity.secretAccessKey();
    if (!secret.equals(keySecret) || !date.equals(keyDate)) {
      byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
      k = hmac(k, region);
      k = hmac(k, "s3");
      k = hmac(k, "aws4_request");
      try {
        signer.init(new SecretKeySpec(k, "HmacSHA256"));
      } catch (InvalidKeyException e) {
        throw new IllegalStateException(e);
      }
      keySecret = secret;
      keyDate = date;
    }
    return signer;
  }

  private byte[] hmac(byte[] key, String data) {
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    StorageCredentials.close(credentials);
  }
}
