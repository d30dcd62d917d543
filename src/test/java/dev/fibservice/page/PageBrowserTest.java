package dev.fibservice.page;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.DbTestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page at GET / in a real headless Chromium, against a real node (2 HTTP instances, database on):
 * compute, a bad n, fire requests and see them spread, people, jobs, the live stats, no console errors.
 * Leaves screenshots in target/page/. Skipped, with one line saying why, when Chromium is not installed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@EnabledIf(value = "dev.fibservice.page.Chromium#installed", disabledReason = Chromium.MISSING)
class PageBrowserTest {

  static final Path ARTIFACTS = Path.of("target", "page");

  private static FibService service;
  private static ChromeDriver browser;
  private static WebDriverWait wait;

  @BeforeAll
  static void start() throws Exception {
    System.out.println("browser: " + Chromium.version());
    service = DbTestNodes.start("page_browser", Map.of("instances", "2"));
    browser = Chromium.start(ARTIFACTS.resolve("profile-" + ProcessHandle.current().pid()), 1280, 1600);
    // a hang guard, not a speed check
    wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    browser.get("http://127.0.0.1:" + service.httpPort() + "/");
    wait.until(d -> text("node-line").contains("2 HTTP instances"));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (browser != null) {
        screenshot(1280, "page.png");
        screenshot(390, "page-phone.png");
        browser.quit();
      }
    } finally {
      TestNodes.stop(service);
    }
  }

  @Test
  @Order(1)
  void computesF30() {
    type("fib-n", "30");
    new Select(byId("fib-algorithm")).selectByValue("doubling");
    byId("fib-go").click();
    wait.until(d -> text("fib-value").equals("832040"));
    String facts = text("fib-facts");
    assertTrue(facts.matches("(?s).*HTTP\\s+http-[12] on vert\\.x-eventloop-thread-\\d+.*"), facts);
    assertTrue(facts.contains("light-1 (light lane)"), facts);
    assertTrue(facts.contains("F(30) by doubling, 6 digits"), facts);
  }

  @Test
  @Order(2)
  void showsTheApiErrorForABadN() {
    type("fib-n", "12abc");
    byId("fib-go").click();
    wait.until(d -> byId("fib-error").isDisplayed());
    assertEquals("n must be a whole number, got '12abc'", text("fib-error"));

    type("fib-n", "50");
    new Select(byId("fib-algorithm")).selectByValue("recursive");
    byId("fib-go").click();
    wait.until(d -> text("fib-error").contains("above the limit"));
    assertEquals("n = 50 is above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)", text("fib-error"));
    assertTrue(!byId("fib-result").isDisplayed(), "no stale result beside the error");

    // a huge value is folded, and the error is gone
    type("fib-n", "5000");
    new Select(byId("fib-algorithm")).selectByValue("doubling");
    byId("fib-go").click();
    wait.until(d -> text("fib-value").contains("digits folded"));
    assertTrue(!byId("fib-error").isDisplayed());
    // F(5000) has 1045 digits: the first and last 48 are shown
    assertTrue(text("fib-value").startsWith("387896845438832563370191630832590531208212771464"), text("fib-value"));
    assertTrue(text("fib-value").contains("949 digits folded"), text("fib-value"));
  }

  @Test
  @Order(3)
  void firesRequestsAndShowsThemSpreadOverInstancesAndWorkers() {
    type("load-count", "50");
    type("load-concurrency", "6");
    type("load-n", "30");
    byId("load-heavy").click();
    type("load-heavy-n", "27");
    byId("load-go").click();
    wait.until(d -> text("load-numbers").contains("light 50 / 50") && byId("load-go").isEnabled());
    String numbers = text("load-numbers");
    assertTrue(numbers.contains("errors 0"), numbers);
    assertTrue(numbers.matches("(?s).*p50 [\\d.,]+ ms.*p90.*p99.*max.*"), numbers);
    assertTrue(text("heavy-numbers").startsWith("heavy recursive"), text("heavy-numbers"));

    // the bars follow the node's fib.stats pushes, which come once a second: the last one lands after the run
    assertTrue(text("spread-source").startsWith("from the node's fib.stats pushes"), text("spread-source"));
    wait.until(d -> pushedRequests() >= 50 && text("spread-workers").contains("light-1")
      && text("spread-workers").contains("heavy-"));
    assertTrue(browser.findElements(By.cssSelector("#spread-http .bar")).size() >= 2,
      "requests spread over at least 2 HTTP instances: " + text("spread-http"));
    String workers = text("spread-workers");
    assertTrue(workers.contains("light-1"), workers);
    assertTrue(workers.contains("heavy-"), "the heavy recursive requests ran on heavy workers: " + workers);
  }

  /** The requests the run's bars counted from the fib.stats pushes. */
  private static long pushedRequests() {
    return ((Number) browser.executeScript("return [...run.pushedSpread.http.values()]"
      + ".reduce((sum, v) => sum + v.count, 0)")).longValue();
  }

  @Test
  @Order(4)
  void showsTheNodesLiveCounters() {
    wait.until(d -> browser.findElements(By.cssSelector("#server-http .bar")).size() == 2);
    String lanes = text("server-lanes");
    assertTrue(lanes.contains("in flight: light") && lanes.contains("heavy"), lanes);
    String workers = text("server-workers");
    assertTrue(workers.contains("light-1") && workers.contains("heavy-1") && workers.contains("jobs-1"), workers);
  }

  @Test
  @Order(5)
  void addsLooksUpAndDeletesAPerson() {
    wait.until(d -> byId("people").isDisplayed() && text("people-list").contains("Han Meimei"));

    type("find-name", "Brus Lee");
    byId("people-find").findElement(By.cssSelector("button")).click();
    wait.until(d -> byId("person-card").isDisplayed());
    WebElement picture = byId("person-card").findElement(By.tagName("img"));
    assertTrue(picture.getAttribute("src").endsWith("/images/2.jpg"), picture.getAttribute("src"));
    wait.until(d -> ((Number) browser.executeScript("return arguments[0].naturalWidth", picture)).intValue() > 0);

    type("add-name", "Ada Lovelace");
    type("add-age", "old");
    type("add-career", "mathematician");
    submit("people-add");
    wait.until(d -> byId("people-error").isDisplayed());
    assertEquals("age must be an integer from 0 to 150, got old", text("people-error"));

    type("add-age", "36");
    submit("people-add");
    wait.until(d -> text("people-list").contains("Ada Lovelace, 36, mathematician"));
    assertTrue(!byId("people-error").isDisplayed());

    browser.findElement(By.cssSelector("button[aria-label='Delete Ada Lovelace']")).click();
    wait.until(d -> !text("people-list").contains("Ada Lovelace"));
    assertTrue(text("people-list").contains("Han Meimei"));
  }

  @Test
  @Order(6)
  void runsAJobToDoneAndOffersItsResult() {
    type("job-n", "100000");
    submit("jobs-form");
    wait.until(d -> !browser.findElements(By.cssSelector("#jobs-list .status.DONE")).isEmpty());
    String job = text("jobs-list");
    assertTrue(job.contains("F(100,000) doubling"), job);
    assertTrue(job.matches("(?s).*PENDING [\\d.]+ s → .*DONE [\\d.]+ s.*"), job);
    assertTrue(!job.contains("null"), job);
    WebElement download = byId("jobs-list").findElement(By.linkText("download 20,899 digits"));
    assertTrue(download.getAttribute("href").matches(".*/jobs/[^/]+/result"), download.getAttribute("href"));
    Object length = browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
      + "fetch(arguments[0]).then(r => r.text()).then(t => done(t.trim().length), e => done(String(e)))", download.getAttribute("href"));
    assertEquals(20_899L, length);
  }

  @Test
  @Order(7)
  void theLivePanelRunsOnFibStatsPushesOverTheEventBus() {
    wait.until(d -> text("server-source").startsWith("live: fib.stats pushed once a second over the event bus"));
    assertTrue(service.statsFeed().subscribers() >= 1, "the page registered fib.stats");
    long pushes = service.statsFeed().pushes();
    // the default buffer keeps 250 entries, fewer than the requests fired above
    browser.executeScript("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()");
    long polls = statsPolls();
    String before = text("server-lanes");
    // three pushes later the panel has changed (uptime, at least), and the page asked GET /stats no more
    wait.until(d -> service.statsFeed().pushes() >= pushes + 3 && !text("server-lanes").equals(before));
    assertEquals(polls, statsPolls(), "no GET /stats while pushes arrive");
    assertTrue(text("server-lanes").contains("req/s"), text("server-lanes"));
    assertTrue(text("server-workers").contains("light-1"), text("server-workers"));
  }

  @Test
  @Order(8)
  void withoutTheBridgeThePanelPollsAndSaysSo() throws Exception {
    FibService off = TestNodes.start(Map.of("sockjs.enabled", "false"));
    String page = browser.getWindowHandle();
    try {
      browser.switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
      browser.get("http://127.0.0.1:" + off.httpPort() + "/");
      wait.until(d -> text("server-source").equals(
        "polling GET /stats every 2 s: the event-bus bridge is off on this node (sockjs.enabled = false)"));
      wait.until(d -> !browser.findElements(By.cssSelector("#server-http .bar")).isEmpty() && statsPolls() >= 2);
      // without pushes the run's bars come from the replies' headers
      type("load-count", "12");
      byId("load-go").click();
      wait.until(d -> text("load-numbers").contains("light 12 / 12") && byId("load-go").isEnabled());
      assertTrue(text("spread-source").startsWith("from the replies"), text("spread-source"));
      assertFalse(browser.findElements(By.cssSelector("#spread-http .bar")).isEmpty(), text("spread-http"));
      browser.close();
    } finally {
      browser.switchTo().window(page);
      TestNodes.stop(off);
    }
  }

  /** How many GET /stats this page made since it loaded. */
  private static long statsPolls() {
    return ((Number) browser.executeScript("return performance.getEntriesByType('resource')"
      + ".filter(e => new URL(e.name).pathname === '/stats').length")).longValue();
  }

  @Test
  @Order(9)
  void hasAccessibleLabelsAndNoConsoleErrors() {
    // every control has a name a screen reader can read: a <label> around it, or aria-label
    Object unlabelled = browser.executeScript(
      "return [...document.querySelectorAll('input, select, button')]"
        + ".filter(e => !e.closest('label') && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim()))"
        + ".map(e => e.id || e.outerHTML)");
    assertEquals(List.of(), unlabelled);

    // the only errors allowed are the 400s this test asked for on purpose
    List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
      .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
      .map(LogEntry::getMessage)
      .filter(m -> !(m.contains("status of 400") && (m.contains("/fib/12abc") || m.contains("/fib/50?") || m.contains("/people"))))
      .toList();
    assertEquals(List.of(), errors);
  }

  private static WebElement byId(String id) {
    return browser.findElement(By.id(id));
  }

  private static String text(String id) {
    return byId(id).getText();
  }

  private static void type(String id, String value) {
    WebElement input = byId(id);
    input.clear();
    input.sendKeys(value);
  }

  private static void submit(String formId) {
    byId(formId).findElement(By.cssSelector("button[type=submit]")).click();
  }

  /** The whole page at this width: the window is made as tall as the page first. */
  private static void screenshot(int width, String name) throws Exception {
    browser.manage().window().setSize(new Dimension(width, 800));
    for (int i = 0; i < 3; i++) {
      // the window is a little taller than its viewport: grow until the whole page fits
      long page = ((Number) browser.executeScript("return document.documentElement.scrollHeight")).longValue();
      long viewport = ((Number) browser.executeScript("return window.innerHeight")).longValue();
      if (viewport >= page) {
        break;
      }
      Dimension size = browser.manage().window().getSize();
      browser.manage().window().setSize(new Dimension(width, (int) Math.min(size.height + page - viewport, 8000)));
    }
    Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
    Files.createDirectories(ARTIFACTS);
    Files.copy(shot, ARTIFACTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }
}
