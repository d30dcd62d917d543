package dev.fibservice.http;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    return PageFiles.count(service.vertx());
  }

  /** Asks for the page until its file is made (bounded), checking every answer byte for byte on the way. */
  private void getUntilFiled(int repeat, int expectedFiles) throws Exception {
    for (int i = 0; i < 200 && files() < expectedFiles; i++) {
      assertPage(repeat);
      Thread.sleep(10);
    }
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
    Vertx nodeVertx = service.vertx();
    TestNodes.stop(service);
    service = null;
    assertEquals(0, PageFiles.count(nodeVertx));
  }
}
