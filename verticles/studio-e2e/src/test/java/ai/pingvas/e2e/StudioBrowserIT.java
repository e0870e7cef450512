package ai.pingvas.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pingvas.devstack.DevStack;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The Studio and the operator view in headless Chromium against the real dev stack, as a person
 * uses them: sign in with the dev API key, generate, watch progress and previews, open the image
 * full size, delete it; lose the event stream mid-job and still see every event; as an operator,
 * cancel a running job and drain a worker.
 * Each step leaves a screenshot in target/screenshots/studio.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StudioBrowserIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static DevStack stack;
  private static Browser browser;
  private static ChromeDriver driver;

  @BeforeAll
  static void start() throws Exception {
    Path data = Files.createTempDirectory("pingvas-studio-it");
    // Slow steps, so progress is watchable and the stream can be cut while a job runs.
    stack = DevStack.start(new DevStack.Options(data, 0, 2, false, Map.of("PINGVAS_ENGINE_STEP_TIME", "150ms")));
    browser = Browser.start("studio");
    driver = browser.driver();
  }

  @AfterAll
  static void stop() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      if (stack != null) {
        stack.close();
      }
    }
  }

  @AfterEach
  void noScriptErrorsOrPolicyRefusals() {
    assertThat(browser.pageErrors()).isEmpty();
  }

  @Test
  @Order(0)
  void servesThePageWithAStrictPolicyAndRedirectsTheRoot() throws Exception {
    HttpClient plain = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    HttpResponse<String> root = plain.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(root.statusCode()).isEqualTo(302);
    assertThat(root.headers().firstValue("Location")).hasValue("/studio/");
    HttpResponse<String> page = plain.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/studio/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<title>Pingvas Studio</title>");
    assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-cache");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("script-src 'self';").doesNotContain("unsafe-inline");
    HttpResponse<String> script = plain.send(HttpRequest.newBuilder(
        URI.create(stack.gatewayUrl() + "/studio/js/studio.js")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(script.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/javascript");
    assertThat(script.headers().firstValue("Cache-Control").orElseThrow()).contains("max-age=300");
    assertThat(plain.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/studio/missing.js")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
  }

  @Test
  @Order(1)
  void signsInGeneratesWatchesProgressOpensAndDeletesTheImage() throws Exception {
    driver.get(stack.gatewayUrl() + "/");
    await(d -> d.getCurrentUrl().endsWith("/studio/") && visible("signin"));
    browser.screenshot("signed-out");

    driver.findElement(By.id("api-key")).sendKeys(stack.devApiKey());
    driver.findElement(By.id("use-api-key")).click();
    await(d -> visible("studio") && "open".equals(attribute("connection", "data-state")));
    await(d -> !new Select(driver.findElement(By.id("model"))).getOptions().isEmpty());
    assertThat(new Select(driver.findElement(By.id("model"))).getFirstSelectedOption().getAttribute("value"))
        .isEqualTo("sd-1.5");
    assertThat(driver.switchTo().activeElement().getAttribute("id")).as("focus moves to the prompt").isEqualTo("prompt");
    browser.screenshot("signed-in");

    String jobId = submit("a lighthouse at dusk, oil painting", "256x256", 40);
    WebElement job = jobCard(jobId);
    await(d -> progress(jobId) > 0);
    double first = progress(jobId);
    browser.screenshot("progress");
    await(d -> progress(jobId) > first);
    await(d -> job.findElement(By.className("job-preview")).isDisplayed()
        || "succeeded".equals(job.getAttribute("data-status")));
    browser.screenshot("progress-advanced");

    await(Duration.ofSeconds(60), d -> "succeeded".equals(job.getAttribute("data-status")));
    String imageId = poll(d -> {
      JsonArray images = get("/v1/generations/" + jobId).getJsonArray("images");
      return images.isEmpty() ? null : images.getJsonObject(0).getString("id");
    });
    By tile = By.cssSelector("#gallery li[data-image-id='" + imageId + "']");
    await(d -> !d.findElements(tile).isEmpty() && loaded(d.findElement(tile).findElement(By.tagName("img"))));
    script("arguments[0].scrollIntoView({block: 'center'})", driver.findElement(tile));
    browser.screenshot("gallery");

    // Keyboard only: Enter opens the full-size view, Escape closes it and gives focus back.
    WebElement thumb = driver.findElement(tile).findElement(By.className("thumb"));
    thumb.sendKeys(Keys.ENTER);
    await(d -> Boolean.TRUE.equals(script("return document.getElementById('viewer').open")));
    driver.switchTo().activeElement().sendKeys(Keys.ESCAPE);
    await(d -> Boolean.FALSE.equals(script("return document.getElementById('viewer').open")));
    assertThat(driver.switchTo().activeElement()).as("focus returns to the thumbnail").isEqualTo(thumb);
    thumb.sendKeys(Keys.ENTER);
    await(d -> Boolean.TRUE.equals(script("return document.getElementById('viewer').open")));
    WebElement full = driver.findElement(By.id("viewer-image"));
    await(d -> loaded(full));
    assertThat(script("return arguments[0].naturalWidth", full)).isEqualTo(256L);
    assertThat(driver.switchTo().activeElement().getAttribute("id")).isEqualTo("viewer-close");
    assertThat(driver.findElement(By.id("viewer-download")).getAttribute("href")).startsWith("http")
        .contains(".png");
    browser.screenshot("full-size");

    driver.findElement(By.id("viewer-delete")).click();
    new WebDriverWait(driver, Duration.ofSeconds(5)).until(ExpectedConditions.alertIsPresent()).accept();
    await(d -> d.findElements(tile).isEmpty()
        && Boolean.FALSE.equals(script("return document.getElementById('viewer').open")));
    assertThat(status("/v1/images/" + imageId)).isEqualTo(404);
    browser.screenshot("deleted");
  }

  @Test
  @Order(2)
  void keepsEveryEventOfAJobWhenTheStreamDropsMidJob() throws Exception {
    String jobId = submit("a storm over the sea, reconnecting", "256x256", 60);
    await(d -> progress(jobId) >= 10);

    // The network goes away: the socket closes and reconnecting fails until it is back.
    browser.offline(true);
    long seqAtDrop = (Long) script("return window.pingvasStudio.stream.lastSeq.get(arguments[0]) || 0", jobId);
    script("window.pingvasStudio.stream.socket.close()");
    await(d -> "reconnecting".equals(attribute("connection", "data-state")));
    browser.screenshot("stream-dropped");
    // Let the job move on while nobody listens: these are the events the page must still get.
    int stepAtDrop = get("/v1/generations/" + jobId).getJsonObject("progress").getInteger("step");
    poll(d -> get("/v1/generations/" + jobId).getJsonObject("progress").getInteger("step") >= stepAtDrop + 8
        ? Boolean.TRUE : null);
    assertThat(progress(jobId)).as("nothing arrives while the stream is down").isLessThan(100);
    browser.offline(false);

    await(d -> ((Long) script("return window.pingvasStudio.stream.connections")) >= 2
        && "open".equals(attribute("connection", "data-state")));
    browser.screenshot("stream-reconnected");
    await(Duration.ofSeconds(60), d -> "succeeded".equals(jobCard(jobId).getAttribute("data-status")));
    browser.screenshot("resumed-job-succeeded");

    List<Map<String, Object>> events = events(jobId);
    List<Long> seqs = new ArrayList<>();
    boolean snapshot = false;
    for (Map<String, Object> event : events) {
      snapshot |= "job.snapshot".equals(event.get("type"));
      if (!Boolean.TRUE.equals(event.get("refresh"))) {
        seqs.add((Long) event.get("seq"));
      }
    }
    assertThat(events.get(events.size() - 1).get("type")).isEqualTo("job.succeeded");
    assertThat(seqs).as("seqs arrive in order, each once").isSorted().doesNotHaveDuplicates();
    assertThat(seqs.get(seqs.size() - 1)).as("events after the drop were delivered").isGreaterThan(seqAtDrop + 1);
    if (!snapshot) {
      // Without a snapshot, resume must have replayed every missed event: no gap in the seqs.
      long firstSeq = seqs.get(0);
      assertThat(firstSeq).isEqualTo(1);
      assertThat(seqs).as("no event lost across the reconnect: %s", events)
          .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(firstSeq, seqs.get(seqs.size() - 1))
              .boxed().toList());
    }
  }

  @Test
  @Order(3)
  void operatorSeesTheWorkersCancelsAJobAndDrainsAWorker() throws Exception {
    driver.get(stack.gatewayUrl() + "/studio/operator.html");
    By worker2 = By.cssSelector("#workers tr[data-worker-id='dev-worker-2']");
    await(d -> visible("operator") && d.findElements(By.cssSelector("#workers tr")).size() >= 2
        && !d.findElements(worker2).isEmpty());
    assertThat(driver.findElement(By.id("workers")).getText()).contains("dev-worker-1", "dev-worker-2");
    browser.screenshot("operator");

    // A long job shows up on its worker's row, and the operator cancels it from there.
    String jobId = post("/v1/generations", new JsonObject().put("model", "sd-1.5").put("prompt", "a job to cancel")
        .put("width", 256).put("height", 256).put("steps", 150)).getString("id");
    By cancel = By.cssSelector("#workers button[aria-label='Cancel job " + jobId + "']");
    await(d -> {
      d.findElement(cancel).click();
      return true;
    });
    new WebDriverWait(driver, Duration.ofSeconds(5)).until(ExpectedConditions.alertIsPresent()).accept();
    poll(d -> "canceled".equals(get("/v1/generations/" + jobId).getString("status")) ? Boolean.TRUE : null);
    await(d -> d.findElements(cancel).isEmpty());
    browser.screenshot("operator-canceled-job");

    // The view redraws its tables every poll: a row found a moment ago may have been replaced.
    await(d -> {
      d.findElement(worker2).findElement(By.className("drain")).click();
      return true;
    });
    new WebDriverWait(driver, Duration.ofSeconds(5)).until(ExpectedConditions.alertIsPresent()).accept();
    await(d -> d.findElement(worker2).findElement(By.className("worker-state")).getText().equals("draining"));
    browser.screenshot("operator-drained");
    JsonObject overview = get("/v1/admin/overview");
    JsonObject drained = overview.getJsonArray("workers").stream().map(JsonObject.class::cast)
        .filter(w -> "dev-worker-2".equals(w.getString("id"))).findFirst().orElseThrow();
    assertThat(drained.getBoolean("draining")).isTrue();
  }

  @Test
  @Order(4)
  void signsInWithEmailAndPasswordAndWatchesItsCreditsBeingSpent() throws Exception {
    String email = "studio-" + UUID.randomUUID() + "@example.com";
    String password = "a long enough passphrase";
    JsonObject signUp = call("POST", "/v1/users", null, new JsonObject().put("email", email)
        .put("password", password));
    String token = signUp.getJsonObject("tokens").getString("access_token");

    driver.get(stack.gatewayUrl() + "/studio/");
    await(d -> visible("studio") || visible("signin"));
    if (visible("studio")) {
      driver.findElement(By.id("sign-out")).click();
    }
    await(d -> visible("signin") && !visible("studio"));
    driver.findElement(By.id("email")).sendKeys(email);
    driver.findElement(By.id("password")).sendKeys(password);
    driver.findElement(By.cssSelector("#password-form button[type=submit]")).click();
    await(d -> visible("studio") && visible("credits"));

    // A new free user in the dev stack's free-allowance mode: the page shows what payment-service says,
    // and offers no purchase (there is no Stripe here).
    long granted = call("GET", "/v1/billing/balance", token, null).getLong("available");
    assertThat(granted).isPositive();
    await(d -> driver.findElement(By.id("credits")).getText().equals("Credits: " + granted));
    assertThat(visible("buy-credits")).isFalse();
    assertThat(visible("operator-link")).as("not an admin").isFalse();
    browser.screenshot("password-signed-in");

    String jobId = submit("a paper boat on a pond", "256x256", 4);
    await(Duration.ofSeconds(60), d -> "succeeded".equals(jobCard(jobId).getAttribute("data-status")));
    // The price is captured from the job's Kafka event a moment later; the page follows the balance.
    JsonObject spent = poll(v -> {
      JsonObject balance = call("GET", "/v1/billing/balance", token, null);
      return balance.getLong("available") < granted && balance.getLong("reserved") == 0 ? balance : null;
    });
    await(d -> driver.findElement(By.id("credits")).getText().equals("Credits: " + spent.getLong("available")));
    browser.screenshot("credits-spent");

    driver.findElement(By.id("sign-out")).click();
    await(d -> visible("signin") && !visible("studio"));
    assertThat(script("return localStorage.length")).as("no credential left behind").isEqualTo(0L);
  }

  private static String submit(String prompt, String size, int steps) {
    WebElement promptField = driver.findElement(By.id("prompt"));
    promptField.clear();
    promptField.sendKeys(prompt);
    new Select(driver.findElement(By.id("size"))).selectByValue(size);
    WebElement stepsField = driver.findElement(By.id("steps"));
    stepsField.clear();
    stepsField.sendKeys(Integer.toString(steps));
    int before = driver.findElements(By.cssSelector("#jobs li.job")).size();
    driver.findElement(By.id("generate")).click();
    await(d -> d.findElements(By.cssSelector("#jobs li.job")).size() > before);
    String jobId = driver.findElement(By.cssSelector("#jobs li.job")).getAttribute("data-job-id");
    assertThat(jobCard(jobId).findElement(By.className("job-prompt")).getText()).isEqualTo(prompt);
    return jobId;
  }

  private static WebElement jobCard(String jobId) {
    return driver.findElement(By.cssSelector("#jobs li[data-job-id='" + jobId + "']"));
  }

  private static double progress(String jobId) {
    Object value = script("return Number(document.querySelector(\"#jobs li[data-job-id='\" + arguments[0] + \"'] progress\").value)",
        jobId);
    return ((Number) value).doubleValue();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> events(String jobId) {
    return (List<Map<String, Object>>) script("return window.pingvasStudio.events(arguments[0])", jobId);
  }

  private static boolean loaded(WebElement img) {
    return Boolean.TRUE.equals(script("return arguments[0].complete && arguments[0].naturalWidth > 0", img));
  }

  private static boolean visible(String id) {
    List<WebElement> found = driver.findElements(By.id(id));
    return !found.isEmpty() && found.get(0).isDisplayed();
  }

  private static String attribute(String id, String name) {
    return driver.findElement(By.id(id)).getAttribute(name);
  }

  private static Object script(String code, Object... args) {
    return driver.executeScript(code, args);
  }

  private static void await(Function<WebDriver, Boolean> condition) {
    await(Duration.ofSeconds(20), condition);
  }

  private static void await(Duration timeout, Function<WebDriver, Boolean> condition) {
    new WebDriverWait(driver, timeout).pollingEvery(Duration.ofMillis(100))
        .ignoring(StaleElementReferenceException.class).until(condition);
  }

  /** Polls the API (not the page) until {@code check} gives a value. */
  private static <T> T poll(Function<Void, T> check) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      T value = check.apply(null);
      if (value != null) {
        return value;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the API never showed what the test waited for");
  }

  private static JsonObject get(String path) {
    try {
      HttpResponse<String> response = HTTP.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
      return new JsonObject(response.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static JsonObject post(String path, JsonObject body) {
    try {
      HttpResponse<String> response = HTTP.send(request(path).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(202);
      return new JsonObject(response.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A call as a given bearer (null: none); any answer but 2xx fails the test. */
  private static JsonObject call(String method, String path, String bearer, JsonObject body) {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(body.encode()));
      if (bearer != null) {
        request.header("Authorization", "Bearer " + bearer);
      }
      HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode() / 100).as(method + " " + path + ": " + response.body()).isEqualTo(2);
      return new JsonObject(response.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static int status(String path) throws Exception {
    return HTTP.send(request(path).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
        .header("Authorization", "Bearer " + stack.devApiKey()).timeout(Duration.ofSeconds(10));
  }
}
