package ai.pingvas.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's promise, through the one public port: the printed curl submits a job that ends
 * succeeded, its PNG downloads, and the gallery lists it; the data survives a restart.
 */
class DevStackIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private static Path data;
  private static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    data = Files.createTempDirectory("pingvas-devstack-it");
    stack = DevStack.start(new DevStack.Options(data, 0, 2, false, Map.of()));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void printedCurlProducesADownloadablePngAndDataSurvivesARestart() throws Exception {
    String banner = stack.banner(1234);
    assertThat(banner).contains(stack.gatewayUrl()).contains(stack.devApiKey()).contains("curl -s ");

    JsonObject job = send("POST", "/v1/generations",
        "{\"model\":\"sd-1.5\",\"prompt\":\"a lighthouse at dusk, oil painting\",\"width\":256,\"height\":256,"
            + "\"steps\":5}", 202);
    String id = job.getString("id");
    JsonObject done = awaitStatus(id, "succeeded");
    JsonObject image = done.getJsonArray("images").getJsonObject(0);

    HttpResponse<byte[]> redirect = HTTP.send(HttpRequest.newBuilder(URI.create(image.getString("url")))
        .header("Authorization", "Bearer " + stack.devApiKey()).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(redirect.statusCode()).isEqualTo(302);
    String location = redirect.headers().firstValue("Location").orElseThrow();
    HttpResponse<byte[]> png = HTTP.send(HttpRequest.newBuilder(URI.create(location)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(png.statusCode()).isEqualTo(200);
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(png.body()));
    assertThat(decoded.getWidth()).isEqualTo(256);

    JsonObject listed = awaitListed(image.getString("id"));
    assertThat(listed.getString("job_id")).isEqualTo(id);

    // Restart on the same data: the job, its image and the API key are still there.
    String key = stack.devApiKey();
    stack.close();
    stack = DevStack.start(new DevStack.Options(data, 0, 1, false, Map.of()));
    assertThat(stack.devApiKey()).isEqualTo(key);
    assertThat(send("GET", "/v1/generations/" + id, null, 200).getString("status")).isEqualTo("succeeded");
    awaitListed(image.getString("id"));
  }

  @Test
  void seedsTheDefaultModelsAndRefusesUnknownOnes() throws Exception {
    JsonObject models = send("GET", "/v1/models", null, 200);
    assertThat(models.getJsonArray("items").stream().map(m -> ((JsonObject) m).getString("name")).toList())
        .contains("sd-1.5", "sdxl", "detail-tweaker", "pixel-art-xl");
    JsonObject refused = send("POST", "/v1/generations", "{\"model\":\"sd-9\",\"prompt\":\"x\"}", 422);
    assertThat(refused.getString("code")).isEqualTo("unknown_model");
    JsonObject mismatch = send("POST", "/v1/generations", "{\"model\":\"sd-1.5\",\"prompt\":\"x\","
        + "\"loras\":[{\"name\":\"pixel-art-xl\",\"weight\":0.8}]}", 422);
    assertThat(mismatch.getString("code")).isEqualTo("model_incompatible");
  }

  private static JsonObject awaitStatus(String id, String status) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    JsonObject job;
    do {
      job = send("GET", "/v1/generations/" + id, null, 200);
      if (job.getString("status").equals(status)) {
        return job;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("job " + id + " is " + job.getString("status") + ", not " + status);
  }

  private static JsonObject awaitListed(String imageId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (Object item : send("GET", "/v1/images", null, 200).getJsonArray("items")) {
        if (imageId.equals(((JsonObject) item).getString("id"))) {
          return (JsonObject) item;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("image " + imageId + " never appeared in the gallery");
  }

  private static JsonObject send(String method, String path, String body, int expected) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
        .header("Authorization", "Bearer " + stack.devApiKey()).timeout(Duration.ofSeconds(30));
    if (body != null) {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(expected);
    return new JsonObject(response.body());
  }
}
