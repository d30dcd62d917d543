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
    service = TestNodes.start(Map.of("instances", "2", "http.pageFileCacheMb", Integer.toString(budgetMb)));
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

  private PageFiles files() {
    return PageFiles.of(service.vertx(), 0);
  }

  /** Asks for the page until its file is made (bounded), checking every answer byte for byte on the way. */
  private void getUntilFiled(int repeat, int expectedFiles) throws Exception {
    for (int i = 0; i < 200 && files().count() < expectedFiles; i++) {
      assertPage(repeat);
      Thread.sleep(10);
    }
    assertEquals(expectedFiles, files().count());
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
    assertEquals(1, files().count());
    // small pages never get a file
    assertPage(3);
    assertPage(2900);
    assertEquals(1, files().count());
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
    assertEquals(4, files().count());
  }

  @Test
  void zeroSendsEveryPageFromMemory() throws Exception {
    start(0);
    for (int i = 0; i < 10; i++) {
      assertPage(10000);
    }
    assertEquals(0, files().count());
  }
}
