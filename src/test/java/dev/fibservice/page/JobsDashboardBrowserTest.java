package dev.fibservice.page;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.DbTestNodes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operators' jobs dashboard (the ops port's /jobs/dashboard) in a real headless Chromium against a real node and
 * MariaDB: a job submitted elsewhere appears live among the waiting ones, is cancelled there, shows among the dead
 * letters, is retried there and ends among the done; no console errors. Skipped when Chromium is not installed.
 */
@EnabledIf(value = "dev.fibservice.page.Chromium#installed", disabledReason = Chromium.MISSING)
class JobsDashboardBrowserTest {

  private static FibService service;
  private static ChromeDriver browser;
  private static WebDriverWait wait;

  @BeforeAll
  static void start() throws Exception {
    service = DbTestNodes.start("jobs_dashboard", Map.of("ops.enabled", "true", "ops.port", "0", "jobs.pollMs", "50"));
    browser = Chromium.start(PageBrowserTest.ARTIFACTS.resolve("profile-dashboard-" + ProcessHandle.current().pid()),
      1280, 1000);
    wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    browser.get("http://127.0.0.1:" + service.opsPort() + "/jobs/dashboard");
    wait.until(d -> "live".equals(d.findElement(By.id("live")).getText()));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      TestNodes.stop(service);
    }
  }

  private static String submit(String body) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + service.httpPort() + "/jobs")).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("id");
  }

  private static WebElement row(String table, String id) {
    List<WebElement> rows = browser.findElements(By.cssSelector("#" + table + " tr[data-id='" + id + "']"));
    return rows.isEmpty() ? null : rows.get(0);
  }

  @Test
  void aJobAppearsLiveIsCancelledAndRetriedFromTheDashboard() throws Exception {
    String id = submit("{\"n\":5000,\"delayMs\":3600000,\"priority\":7}");
    wait.until(d -> row("waiting", id) != null);
    WebElement waiting = row("waiting", id);
    assertTrue(waiting.getText().contains("SCHEDULED"), waiting.getText());
    waiting.findElement(By.cssSelector("button[data-action='cancel']")).click();
    wait.until(d -> row("failed", id) != null && row("waiting", id) == null);
    assertTrue(row("failed", id).getText().contains("CANCELLED"), row("failed", id).getText());
    row("failed", id).findElement(By.cssSelector("button[data-action='retry']")).click();
    wait.until(d -> row("done", id) != null);
    assertTrue(row("done", id).getText().contains("DONE"), row("done", id).getText());
    wait.until(d -> d.findElement(By.id("count-DONE")).getText().matches("DONE: [1-9]\\d*"));
    List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
      .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(Object::toString).toList();
    assertEquals(List.of(), errors);
  }
}
