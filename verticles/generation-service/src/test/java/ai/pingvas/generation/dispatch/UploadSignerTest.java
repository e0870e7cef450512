package ai.pingvas.generation.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.Config;
import ai.pingvas.protocol.UploadSlot;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

class UploadSignerTest {
  private static final AwsCredentialsProvider BASIC = StaticCredentialsProvider.create(
      AwsBasicCredentials.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
  private static final AwsCredentialsProvider SESSION = StaticCredentialsProvider.create(
      AwsSessionCredentials.create("ASIAEXAMPLE", "s3cr3t/with+slash=", "IQoJb3JpZ2luX2VjE+/token=="));

  private static Config config(String endpoint, boolean pathStyle) {
    return Config.of(Map.of("storage.endpoint", endpoint, "storage.region", "eu-west-1",
        "storage.path-style", pathStyle, "storage.access-key", "AKIDEXAMPLE", "storage.secret-key", "secret",
        "storage.bucket", "images", "storage.upload-url-ttl", "15m"));
  }

  @Test
  void slotsArePresignedPutUrlsForEachImageKey() {
    List<UploadSlot> pathStyle = new UploadSigner(config("http://127.0.0.1:9000", true)).slots("u1", "j1", 2, 2);
    assertThat(pathStyle).hasSize(2);
    for (int i = 0; i < 2; i++) {
      UploadSlot slot = pathStyle.get(i);
      assertThat(slot.key()).isEqualTo("images/u1/j1/2-" + i + ".png");
      URI url = URI.create(slot.putUrl());
      assertThat(url.getHost()).isEqualTo("127.0.0.1");
      assertThat(url.getPort()).isEqualTo(9000);
      assertThat(url.getRawPath()).isEqualTo("/images/images/u1/j1/2-" + i + ".png");
      assertThat(url.getRawQuery()).contains("X-Amz-Algorithm=AWS4-HMAC-SHA256")
          .contains("X-Amz-Credential=AKIDEXAMPLE%2F").contains("%2Feu-west-1%2Fs3%2Faws4_request")
          .contains("X-Amz-Expires=900").contains("X-Amz-SignedHeaders=content-type%3Bhost")
          .containsPattern("X-Amz-Signature=[0-9a-f]{64}");
    }
    URI virtualHost = URI.create(new UploadSigner(config("https://s3.eu-west-1.amazonaws.com", false))
        .slots("u1", "j1", 1, 1).get(0).putUrl());
    assertThat(virtualHost.getHost()).isEqualTo("images.s3.eu-west-1.amazonaws.com");
    assertThat(virtualHost.getPort()).as("default port left out").isEqualTo(-1);
    assertThat(virtualHost.getRawPath()).isEqualTo("/images/u1/j1/1-0.png");
  }

  /** Every URL signs exactly as the AWS SDK's SigV4 signer signs the same request at the same instant. */
  @Test
  void signsAsTheSdkSigner() {
    Instant[] instants = {Instant.parse("2026-11-27T15:30:05Z"), Instant.parse("2026-12-31T23:59:59Z"),
        Instant.parse("2027-01-01T00:00:00Z")};
    String[][] endpoints = {{"http://127.0.0.1:9000", "true"}, {"https://s3.eu-west-1.amazonaws.com", "false"},
        {"https://minio.internal:8443", "true"}, {"http://localhost:80", "false"}, {"https://r2.example", "true"}};
    int compared = 0;
    for (AwsCredentialsProvider credentials : List.of(BASIC, SESSION)) {
      for (String[] endpoint : endpoints) {
        for (Instant at : instants) {
          Clock clock = Clock.fixed(at, ZoneOffset.UTC);
          UploadSigner signer = new UploadSigner(config(endpoint[0], Boolean.parseBoolean(endpoint[1])), clock,
              credentials);
          for (UploadSlot slot : signer.slots("4f1c7a9e-user", "0b6d-job", 3, 2)) {
            URI ours = URI.create(slot.putUrl());
            URI sdk = sdkPresign(credentials, URI.create(endpoint[0]), Boolean.parseBoolean(endpoint[1]), slot.key(),
                clock).getUri();
            assertThat(ours.getScheme() + "://" + ours.getRawAuthority() + ours.getRawPath())
                .isEqualTo(sdk.getScheme() + "://" + sdk.getRawAuthority() + sdk.getRawPath());
            assertThat(query(ours)).as("%s at %s", endpoint[0], at).isEqualTo(query(sdk));
            assertThat(slot.expiresAtEpochMs()).isEqualTo(at.plus(Duration.ofMinutes(15)).toEpochMilli());
            compared++;
          }
        }
      }
    }
    assertThat(compared).isEqualTo(60);
    // the session token is part of what is signed
    String withToken = new UploadSigner(config("http://127.0.0.1:9000", true), Clock.systemUTC(), SESSION)
        .slots("u", "j", 1, 1).get(0).putUrl();
    assertThat(withToken).contains("X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2B%2Ftoken%3D%3D");
  }

  /**
   * One signer keeps its derived key across URLs: it must derive it again when the day turns and
   * when the credentials rotate, or every URL after midnight or a rotation would be refused by S3.
   */
  @Test
  void oneSignerSignsAsTheSdkAcrossMidnightAndACredentialRotation() {
    Instant[] now = {Instant.parse("2026-11-27T23:59:58Z")};
    Clock clock = clockOf(now);
    AwsCredentialsProvider[] current = {BASIC};
    AwsCredentialsProvider rotating = () -> current[0].resolveCredentials();
    UploadSigner signer = new UploadSigner(config("http://127.0.0.1:9000", true), clock, rotating);
    String[] steps = {"before midnight", "after midnight", "rotated"};
    for (String step : steps) {
      if (step.equals("after midnight")) {
        now[0] = Instant.parse("2026-11-28T00:00:01Z");
      } else if (step.equals("rotated")) {
        current[0] = SESSION;
      }
      Clock fixed = Clock.fixed(now[0], ZoneOffset.UTC);
      for (UploadSlot slot : signer.slots("u-1", "job-1", 1, 2)) {
        URI sdk = sdkPresign(current[0], URI.create("http://127.0.0.1:9000"), true, slot.key(), fixed).getUri();
        assertThat(query(URI.create(slot.putUrl()))).as(step).isEqualTo(query(sdk));
      }
    }
  }

  @Test
  void aFailedCredentialsLookupIsNotRepeatedForEachJob() {
    Instant[] now = {Instant.parse("2026-11-29T12:00:00Z")};
    Clock clock = clockOf(now);
    int[] lookups = {0};
    boolean[] missing = {true};
    AwsCredentialsProvider chain = () -> {
      lookups[0]++;
      if (missing[0]) {
        throw new IllegalStateException("Unable to load credentials from any of the providers in the chain");
      }
      return BASIC.resolveCredentials();
    };
    UploadSigner signer = new UploadSigner(config("http://127.0.0.1:9000", true), clock, chain);
    for (int job = 0; job < 50; job++) {
      assertThatThrownBy(() -> signer.slots("u-1", "job", 1, 1)).hasMessageContaining("Unable to load credentials");
      now[0] = now[0].plusMillis(50);
    }
    assertThat(lookups[0]).as("one lookup for 50 jobs in 2.5 s").isEqualTo(1);
    missing[0] = false;
    now[0] = now[0].plusMillis(UploadSigner.CREDENTIALS_RETRY_MS);
    assertThat(signer.slots("u-1", "job", 1, 1)).hasSize(1);
    assertThat(signer.slots("u-1", "job", 1, 1)).hasSize(1);
    assertThat(lookups[0]).isEqualTo(3);
  }

  /** A clock that reads {@code now[0]}, for tests that move time. */
  private static Clock clockOf(Instant[] now) {
    return new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now[0];
      }
    };
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> params = new TreeMap<>();
    for (String pair : uri.getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      params.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return params;
  }

  /** The reference: the SDK's SigV4 signer on the request S3 presigning would sign. */
  private static SdkHttpRequest sdkPresign(AwsCredentialsProvider credentials, URI endpoint, boolean pathStyle,
      String key, Clock clock) {
    String encodedKey = SdkHttpUtils.urlEncodeIgnoreSlashes(key);
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.PUT)
        .protocol(endpoint.getScheme()).port(endpoint.getPort())
        .putHeader("Content-Type", "image/png");
    if (pathStyle) {
      request.host(endpoint.getHost()).encodedPath("/images/" + encodedKey);
    } else {
      request.host("images." + endpoint.getHost()).encodedPath("/" + encodedKey);
    }
    return AwsV4HttpSigner.create().sign(r -> r.identity(credentials.resolveCredentials()).request(request.build())
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
            .putProperty(AwsV4HttpSigner.REGION_NAME, "eu-west-1")
            .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, Duration.ofMinutes(15))
            .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
            .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
            .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
            .putProperty(HttpSigner.SIGNING_CLOCK, clock))
        .request();
  }
}
