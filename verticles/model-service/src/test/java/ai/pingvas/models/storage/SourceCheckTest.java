package ai.pingvas.models.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.http.ApiException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** What a registration is answered when S3 says no, or says nothing (the SDK's own exceptions). */
class SourceCheckTest {
  private static final String SOURCE = "s3://pingvas-models/sdxl.safetensors";

  @Test
  void aMissingObjectIsA422NamingTheSource() {
    ApiException p = SourceCheck.problem(SOURCE, new CompletionException(NoSuchKeyException.builder().build()),
        "us-east-1");
    assertThat(p.status()).isEqualTo(422);
    assertThat(p.code()).isEqualTo("model_source_missing");
    assertThat(p.getMessage()).contains(SOURCE);
    // a HEAD has no body: a missing key or bucket is a bare 404
    assertThat(SourceCheck.problem(SOURCE, s3(404), "us-east-1").code()).isEqualTo("model_source_missing");
  }

  @Test
  void aSourceTheRegistryMayNotReadIsA422SayingSo() {
    ApiException forbidden = SourceCheck.problem(SOURCE, s3(403), "us-east-1");
    assertThat(forbidden.status()).isEqualTo(422);
    assertThat(forbidden.code()).isEqualTo("model_source_unreadable");
    assertThat(forbidden.getMessage()).contains("403").contains("models bucket");
    ApiException region = SourceCheck.problem(SOURCE, s3(301), "eu-west-1");
    assertThat(region.code()).isEqualTo("model_source_unreadable");
    assertThat(region.getMessage()).contains("eu-west-1");
  }

  @Test
  void storageNotAnsweringIsA503ToRetry() {
    for (Throwable err : new Throwable[] {s3(500), s3(503), SdkClientException.create("connection refused"),
        ApiCallTimeoutException.create(10_000)}) {
      ApiException p = SourceCheck.problem(SOURCE, new CompletionException(err), "us-east-1");
      assertThat(p.status()).as(err.toString()).isEqualTo(503);
      assertThat(p.code()).isEqualTo("storage_unavailable");
    }
  }

  @Test
  void aSourceThatNamesNoObjectIsRefusedBeforeAskingStorage() {
    assertThatThrownBy(() -> SourceCheck.Location.of("s3://pingvas-models/")).isInstanceOf(ApiException.class)
        .hasMessageContaining("names no object");
    assertThat(SourceCheck.Location.of("s3://pingvas-models/a/b.safetensors"))
        .isEqualTo(new SourceCheck.Location("pingvas-models", "a/b.safetensors"));
  }

  private static S3Exception s3(int status) {
    return (S3Exception) S3Exception.builder().statusCode(status).message("status " + status).build();
  }
}
