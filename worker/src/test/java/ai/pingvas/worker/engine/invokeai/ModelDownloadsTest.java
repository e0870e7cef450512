package ai.pingvas.worker.engine.invokeai;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Registry sources become URLs InvokeAI can fetch, and their signatures never reach an error. */
class ModelDownloadsTest {
  private final Vertx vertx = Vertx.vertx();
  private final ModelDownloads downloads = new ModelDownloads(vertx, "eu-west-1", null, false, "AKIAEXAMPLE",
      "secret", Duration.ofMinutes(30));

  @AfterEach
  void close() {
    downloads.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  private String fetchable(String source) {
    return downloads.fetchable(source).toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
        .join();
  }

  @Test
  void anS3ObjectBecomesAPresignedGetOfThatObject() {
    String url = fetchable("s3://pingvas-models-prod/checkpoints/sdxl/sd_xl_base_1.0.safetensors");
    assertThat(url).startsWith("https://pingvas-models-prod.s3.eu-west-1.amazonaws.com/checkpoints/sdxl/"
        + "sd_xl_base_1.0.safetensors?")
        .contains("X-Amz-Credential=AKIAEXAMPLE%2F").contains("X-Amz-Expires=1800").contains("X-Amz-Signature=");
  }

  @Test
  void otherSourcesPassUnchanged() {
    assertThat(fetchable("stabilityai/sdxl-turbo")).isEqualTo("stabilityai/sdxl-turbo");
    assertThat(fetchable("/models/sd-1.5.safetensors")).isEqualTo("/models/sd-1.5.safetensors");
  }

  @Test
  void anS3SourceWithoutAKeyIsRefused() {
    Assertions.assertThatThrownBy(() -> fetchable("s3://pingvas-models/"))
        .isInstanceOf(CompletionException.class).hasMessageContaining("names no object");
  }

  @Test
  void redactionDropsTheQueryOfEveryUrlAndKeepsTheRest() {
    String error = "404 Client Error: Not Found for url: https://b.s3.amazonaws.com/k/m.safetensors?X-Amz-Algorithm="
        + "AWS4-HMAC-SHA256&X-Amz-Signature=abc123 (and http://127.0.0.1:9/x?token=t)";
    assertThat(ModelDownloads.redact(error))
        .isEqualTo("404 Client Error: Not Found for url: https://b.s3.amazonaws.com/k/m.safetensors?\u2026 "
            + "(and http://127.0.0.1:9/x?\u2026");
    assertThat(ModelDownloads.redact("HTTPError: Forbidden")).isEqualTo("HTTPError: Forbidden");
    assertThat(ModelDownloads.redact(null)).isNull();
  }
}
