package ai.pingvas.generation.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.platform.config.Config;
import ai.pingvas.protocol.UploadSlot;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;

class UploadSignerTest {
  private static UploadSigner signer(String endpoint, boolean pathStyle) {
    return new UploadSigner(Config.of(Map.of("storage.endpoint", endpoint, "storage.region", "eu-west-1",
        "storage.path-style", pathStyle, "storage.access-key", "AKIDEXAMPLE", "storage.secret-key", "secret",
        "storage.bucket", "images", "storage.upload-url-ttl", "15m")));
  }

  @Test
  void urlIsWhatTheSdkPrints() {
    List<SdkHttpRequest> requests = List.of(
        request("http", "127.0.0.1", 9000, "/images/a/b%20c.png"),
        request("https", "images.s3.eu-west-1.amazonaws.com", 443, "/u/j/1-0.png"),
        request("https", "minio.internal", 8443, "/images/%C3%A9t%C3%A9.png"),
        request("http", "localhost", 80, "/k"));
    for (SdkHttpRequest r : requests) {
      assertThat(UploadSigner.url(r)).isEqualTo(r.getUri().toString());
    }
  }

  private static SdkHttpRequest request(String protocol, String host, int port, String path) {
    return SdkHttpRequest.builder().method(SdkHttpMethod.PUT).protocol(protocol).host(host).port(port)
        .encodedPath(path).putRawQueryParameter("X-Amz-Credential", "AKIDEXAMPLE/20261127/eu-west-1/s3/aws4_request")
        .putRawQueryParameter("X-Amz-SignedHeaders", "content-type;host")
        .putRawQueryParameter("X-Amz-Signature", "abc123").build();
  }

  @Test
  void slotsArePresignedPutUrlsForEachImageKey() {
    List<UploadSlot> pathStyle = signer("http://127.0.0.1:9000", true).slots("u1", "j1", 2, 2);
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
    URI virtualHost = URI.create(signer("https://s3.eu-west-1.amazonaws.com", false).slots("u1", "j1", 1, 1)
        .get(0).putUrl());
    assertThat(virtualHost.getHost()).isEqualTo("images.s3.eu-west-1.amazonaws.com");
    assertThat(virtualHost.getPort()).as("default port left out").isEqualTo(-1);
    assertThat(virtualHost.getRawPath()).isEqualTo("/images/u1/j1/1-0.png");
  }
}
