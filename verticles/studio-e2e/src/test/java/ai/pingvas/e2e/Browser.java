package ai.pingvas.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * Debian's headless Chromium driven by Debian's chromedriver (no browser download, no Selenium
 * Manager), with a fresh profile and everything that would call Google switched off; screenshots
 * are kept under target/screenshots as test artifacts.
 */
final class Browser implements AutoCloseable {
  private static final String CHROMIUM = System.getProperty("chromium.binary", "/usr/bin/chromium");
  private static final String CHROMEDRIVER = System.getProperty("chromedriver.binary", "/usr/bin/chromedriver");
  private final ChromeDriver driver;
  private final Path profile;
  private final Path screenshots;
  private int shot;

  private Browser(ChromeDriver driver, Path profile, Path screenshots) {
    this.driver = driver;
    this.profile = profile;
    this.screenshots = screenshots;
  }

  static Browser start(String screenshotFolder) throws IOException {
    Path profile = Files.createTempDirectory("pingvas-chromium");
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM).addArguments(
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1100", "--user-data-dir=" + profile);
    options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
        .usingAnyFreePort().build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20)).pageLoadTimeout(Duration.ofSeconds(30));
    // Network domain on, so tests can take the page offline.
    driver.executeCdpCommand("Network.enable", Map.of());
    Path screenshots = Path.of("target", "screenshots", screenshotFolder);
    if (Files.isDirectory(screenshots)) {
      try (var old = Files.list(screenshots)) {
        for (Path file : old.toList()) {
          Files.delete(file); // only this run's steps, numbered in order
        }
      }
    }
    Files.createDirectories(screenshots);
    return new Browser(driver, profile, screenshots);
  }

  ChromeDriver driver() {
    return driver;
  }

  /** Console messages that mean the page broke: script errors and Content-Security-Policy refusals. */
  List<String> pageErrors() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
        .filter(m -> m.contains("Uncaught") || m.contains("Content Security Policy") || m.contains("Refused to"))
        .toList();
  }

  /** Saves a numbered screenshot of the page as it is now. */
  Path screenshot(String name) {
    Path file = screenshots.resolve(String.format("%02d-%s.png", ++shot, name));
    try {
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Takes the page offline (open sockets stay up until closed; new connections fail) or back online. */
  void offline(boolean offline) {
    driver.executeCdpCommand("Network.emulateNetworkConditions", Map.of("offline", offline, "latency", 0,
        "downloadThroughput", -1, "uploadThroughput", -1));
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // A leftover temporary profile is harmless.
      }
    }
  }
}
