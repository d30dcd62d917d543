package dev.fibservice.http;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The large /hello pages sent from files with sendfile: the same bytes as from memory, within the budget. */
class PageFilesTest {

  private FibService service;
  private Vertx vertx;
  private WebClient client;

  private void start(int budgetMb) throws Exception {
    // one instance: the budget is per instance, and every request then meets the same files
    service = TestNodes.start(Map.of("instances", "1", "http.pageFileCacheMb", Integer.toString(budgetMb)));
    vertx = Vertx.vertx();
    client = TestNodes.client(vertx, service);
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await();
    }
    TestNodes.stop(service);
  }

  private int files() {
    return service.node().http().pageFiles().get();
  }

  /** Asks for the page until its file is made (bounded), checking every answer byte for byte on the way. */
  private void getUntilFiled(int repeat, int expectedFiles) throws Exception {
    Eventually.within(Duration.ofSeconds(10), () -> {
      if (files() >= expectedFiles) {
        return true;
      }
      assertPage(repeat);
      return false;
    });
    assertEquals(expectedFiles, files());
  }

  private void assertPage(int repeat) throws Exception {
    HttpResponse<Buffer> r = client.get("/hello?repeat=" + repeat).send().await();
    assertEquals(200, r.statusCode());
    assertEquals("text/html; charset=utf-8", r.getHeader("content-type"));
    assertEquals(String.valueOf(HelloPages.length(repeat)), r.getHeader("content-length"));
    assertEquals(HelloPages.HEAD + HelloPages.BLOCK.repeat(repeat) + HelloPages.TAIL, r.bodyAsString());
  }

  @Test
  void largePagesAreSentFromTheirFileWithTheSameBytes() throws Exception {
    start(64);
    getUntilFiled(10000, 1);
    for (int i = 0; i < 20; i++) {
      assertPage(10000);
    }
    assertEquals(1, files());
    // small pages never get a file
    assertPage(3);
    assertPage(2900);
    assertEquals(1, files());
    assertTrue(HelloPages.length(2900) < PageFiles.MIN_BYTES);
    getUntilFiled(2980, 2);
    assertTrue(HelloPages.length(2980) >= PageFiles.MIN_BYTES);
  }

  @Test
  void theBudgetBoundsTheFiles() throws Exception {
    start(1);
    // 220 KB pages: four fit in 1 MiB, the fifth and sixth stay in memory and are still served whole
    for (int k = 0; k < 4; k++) {
      getUntilFiled(10000 + k, k + 1);
    }
    for (int i = 0; i < 5; i++) {
      assertPage(10004);
      assertPage(10005);
    }
    assertEquals(4, files());
  }

  @Test
  void zeroSendsEveryPageFromMemory() throws Exception {
    start(0);
    for (int i = 0; i < 10; i++) {
      assertPage(10000);
    }
    assertEquals(0, files());
  }

  @Test
  void stoppingTheNodeClosesTheFiles() throws Exception {
    start(32);
    getUntilFiled(10000, 1);
    AtomicInteger open = service.node().http().pageFiles();
    TestNodes.stop(service);
    service = null;
    assertEquals(0, open.get());
  }

  @Test
  void aFileThatCannotBeMadeStopsFurtherAttempts(@TempDir Path temp) throws Exception {
    vertx = Vertx.vertx();
    Path dir = temp.resolve("not-yet");
    Context context = vertx.getOrCreateContext();
    AtomicInteger open = new AtomicInteger();
    PageFiles pages = on(context, () -> new PageFiles(vertx, 32, open, dir));
    assertNull(on(context, () -> pages.file(10000))); // starts a file in a directory that does not exist
    Eventually.within(Duration.ofSeconds(5), () -> !on(context, pages::enabled));
    assertFalse(on(context, pages::enabled), "a failed file must turn page files off");
    // the directory now exists: a retry would succeed, but there is none (the page stays in memory); a file made
    // there would be unlinked at once, so the directory is watched for it
    Files.createDirectories(dir);
    try (WatchService watch = dir.getFileSystem().newWatchService()) {
      dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      for (int i = 0; i < 20; i++) {
        assertNull(on(context, () -> pages.file(10000)));
        Thread.sleep(10);
      }
      WatchKey created = watch.poll(500, TimeUnit.MILLISECONDS);
      assertNull(created, () -> "a file was made after the failure: " + created.pollEvents().get(0).context());
    }
    assertEquals(0, open.get());
    on(context, () -> {
      pages.close();
      return null;
    });
  }

  /** Runs {@code task} on {@code context}'s event loop (PageFiles is used on its verticle's event loop only). */
  private static <T> T on(Context context, Callable<T> task) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> {
      try {
        promise.complete(task.call());
      } catch (Exception e) {
        promise.fail(e);
      }
    });
    return promise.future().await();
  }
}
