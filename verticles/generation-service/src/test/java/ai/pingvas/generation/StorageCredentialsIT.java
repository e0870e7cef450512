package ai.pingvas.generation;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.embedded.S3Server;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A router without storage credentials (no keys configured, and the default AWS chain finds none)
 * cannot sign its jobs' upload URLs: each attempt fails as retryable {@code storage_unavailable}
 * with backoff, the job ends failed after max_attempts with that error, and nothing is left claimed
 * and unsent. Once credentials appear the router signs again without a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StorageCredentialsIT {
  private static RouterHarness harness;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    // the chain's last link asks the EC2 instance endpoint, which this machine does not answer
    System.setProperty("aws.disableEc2Metadata", "true");
    harness = new RouterHarness("nocreds").with("PINGVAS_STORAGE_ACCESS_KEY", "")
        // retries after 2-4 s and 4-8 s: the third attempt always comes after the 5 s a failed
        // credentials lookup stands, and looks again
        .with("PINGVAS_STORAGE_SECRET_KEY", "").with("PINGVAS_RETRY_BACKOFF_BASE", "4s")
        .with("PINGVAS_RETRY_MAX_ATTEMPTS", "3").startedWithWorker("nocreds-worker", Map.of());
    api = new ApiClient(harness.baseUrl());
  }

  @AfterAll
  static void stop() {
    harness.close();
    System.clearProperty("aws.disableEc2Metadata");
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  @Test
  @Order(1)
  void jobsWhoseUploadsCannotBeSignedFailRetryableThenEndFailed() {
    String key = harness.createUser("pro");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(api.submit(key, "sd-1.5", "a harbour at dawn " + i, 2));
    }
    for (String id : ids) {
      JsonObject job = api.awaitStatus(key, id, "failed", Duration.ofSeconds(30));
      assertThat(job.getInteger("attempt")).as(job.encode()).isEqualTo(3);
      assertThat(job.getJsonObject("error").getString("code")).isEqualTo("storage_unavailable");
      assertThat(job.getJsonObject("error").getString("message")).contains("could not sign upload URLs")
          .as("the provider chain's details are for the log, not the user").doesNotContain("Provider");
      assertThat(job.getValue("started_at")).as("no worker ever ran it").isNull();
    }
    assertThat(harness.count("select count(*) from generation.jobs where status in ('dispatched', 'running')"))
        .as("nothing left claimed and unsent").isZero();
  }

  @Test
  @Order(2)
  void signingResumesOnceCredentialsAppear() {
    // the default chain reads these system properties first; the failed lookup stands for 5 s, so
    // the first attempts may still fail, the third (6-12 s later) signs
    System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
    String key = harness.createUser("pro");
    String id = api.submit(key, "sd-1.5", "a harbour at noon", 2);
    JsonObject job = api.awaitStatus(key, id, "succeeded", Duration.ofSeconds(30));
    assertThat(job.getJsonArray("images")).hasSize(1);
  }
}
