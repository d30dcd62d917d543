package dev.fibservice.page;

import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Debian's headless Chromium driven through its own ChromeDriver: both paths are given explicitly, so
 * Selenium never tries to download a driver or a browser. Paths: {@code /usr/bin/chromium} and
 * {@code /usr/bin/chromedriver}, or the environment variables CHROMIUM and CHROMEDRIVER.
 */
final class Chromium {

  static final String BROWSER = env("CHROMIUM", "/usr/bin/chromium");
  static final String DRIVER = env("CHROMEDRIVER", "/usr/bin/chromedriver");
  static final String MISSING = "browser tests skipped: Chromium or ChromeDriver is not installed"
    + " (/usr/bin/chromium, /usr/bin/chromedriver; `make browser` as root installs them)";

  /** Selenium warns at every start that it has no CDP bindings for this Chromium; we use none. Kept: loggers are weak. */
  private static final Logger SELENIUM_CDP = Logger.getLogger("org.openqa.selenium");

  private Chromium() {
  }

  /** Whether the browser and its driver are installed (and the browser answers --version). */
  static boolean installed() {
    return version() != null;
  }

  /** The browser's version line, or null when the browser or its driver is not installed. */
  static String version() {
    if (!new File(BROWSER).canExecute() || !new File(DRIVER).canExecute()) {
      return null;
    }
    try {
      Process p = new ProcessBuilder(BROWSER, "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** A fresh headless browser with a throw-away profile, at the given window size, logging the console. */
  static ChromeDriver start(Path profile, int width, int height) throws IOException {
    System.setProperty("webdriver.chrome.driver", DRIVER);
    SELENIUM_CDP.setLevel(Level.SEVERE);
    Files.createDirectories(profile);
    ChromeOptions options = new ChromeOptions()
      .setBinary(BROWSER)
      // these flags keep Chromium off the network (this machine's is closed) and out of the sandbox (root)
      .addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile.toAbsolutePath(),
        "--window-size=" + width + "," + height);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
      .usingDriverExecutable(new File(DRIVER))
      .usingAnyFreePort()
      .build();
    return new ChromeDriver(service, options);
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
