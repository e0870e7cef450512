package ai.pingvas.platform.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class StudioRoutesTest {
  @Test
  void allowsImagesFromThePublicStorageEndpointFirst() {
    assertThat(StudioRoutes.imageOrigins("https://cdn.pingvas.ai/images", "http://minio:9000"))
        .containsExactly("https://cdn.pingvas.ai");
    assertThat(StudioRoutes.imageOrigins(null, "http://127.0.0.1:19000")).containsExactly("http://127.0.0.1:19000");
  }

  @Test
  void fallsBackToAwsWhenNoEndpointIsConfigured() {
    assertThat(StudioRoutes.imageOrigins(null, " ")).containsExactly(StudioRoutes.AWS_ORIGIN);
  }

  @Test
  void refusesAnEndpointThatIsNotAUrl() {
    assertThatThrownBy(() -> StudioRoutes.imageOrigins("minio:9000/bucket")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void policyAllowsNoInlineCodeAndNoFraming() {
    String policy = StudioRoutes.contentSecurityPolicy(Set.of("http://127.0.0.1:19000"));
    assertThat(policy).contains("default-src 'none'", "script-src 'self';", "style-src 'self';",
        "img-src 'self' data: blob: http://127.0.0.1:19000;", "connect-src 'self'", "frame-ancestors 'none'");
    assertThat(policy).doesNotContain("unsafe-inline", "unsafe-eval");
  }
}
