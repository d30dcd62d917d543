package dev.fibservice.compute;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limits around the workers: the in-flight cap answers 503 at once, the deadline answers 504, and
 * a computation nobody waits for any more (deadline passed, client gone) really stops using the CPU.
 */
class OverloadAndDeadlineTest {

  private FibService service;
  private Vertx vertx;
  private WebClient client;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    TestNodes.stop(service);
    vertx.close().await();
  }

  private void start(Map<String, ?> overrides) throws Exception {
    service = TestNodes.start(overrides);
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.httpPort()),
      new PoolOptions().setHttp1MaxSize(100));
  }

  private Admission admission() {
    return Admission.of(service.vertx(), 0);
  }

  /** Waits (bounded) until no computation is queued or running: the hang guard, not a speed check. */
  private void awaitIdle() throws InterruptedException {
    for (int i = 0; i < 300 && admission().inFlight() > 0; i++) {
      Thread.sleep(100);
    }
    assertEquals(0, admission().inFlight(), "computations still running: cancellation did not stop them");
  }

  @Test
  void overloadGets503WithRetryAfterAtOnce() throws Exception {
    // fib(60) by naive recursion runs for hours: only cancellation ends it
    start(Map.of("workerInstances", "1", "fib.maxInFlight", "3", "fib.maxN.recursive", "60", "fib.timeoutMs", "20000"));
    List<Future<HttpResponse<Buffer>>> heavy = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      heavy.add(client.get("/fib/60?algorithm=recursive").send());
    }
    // the 27 over the cap are refused without waiting for the 3 admitted ones, which never finish by themselves
    for (int i = 0; i < 300 && heavy.stream().filter(Future::isComplete).count() < 27; i++) {
      Thread.sleep(50);
    }
    List<HttpResponse<Buffer>> refused = heavy.stream().filter(Future::isComplete).map(Future::result).toList();
    assertEquals(27, refused.size());
    for (HttpResponse<Buffer> r : refused) {
      assertEquals(503, r.statusCode());
      assertEquals("1", r.getHeader("Retry-After"));
      assertTrue(r.bodyAsJsonObject().getString("error").contains("fib.maxInFlight"), r.bodyAsString());
    }
    assertEquals(3, admission().inFlight());
    // the light lane is not taken by the heavy ones
    assertEquals("55", client.get("/fib/10").send().await().bodyAsJsonObject().getString("value"));
    // closing the client cancels the three admitted computations
    client.close();
    awaitIdle();
  }

  @Test
  void deadlineGets504AndTheWorkStops() throws Exception {
    start(Map.of("workerInstances", "1", "fib.maxN.recursive", "60", "fib.timeoutMs", "500"));
    HttpResponse<Buffer> r = client.get("/fib/60?algorithm=recursive").send().await();
    assertEquals(504, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("did not finish within fib.timeoutMs = 500 ms"),
      r.bodyAsString());
    awaitIdle();
    // the only heavy worker is free again
    assertEquals("832040", client.get("/fib/30?algorithm=recursive").send().await().bodyAsJsonObject().getString("value"));
  }

  @Test
  void clientDisconnectStopsTheWork() throws Exception {
    start(Map.of("workerInstances", "1", "fib.maxN.recursive", "60"));
    HttpClient raw = vertx.createHttpClient(new HttpClientOptions());
    raw.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(service.httpPort())
        .setURI("/fib/60?algorithm=recursive"))
      .compose(req -> {
        req.send();
        return vertx.timer(300).compose(t -> req.connection().close());
      }).await();
    Thread.sleep(100);
    awaitIdle();
  }
}
