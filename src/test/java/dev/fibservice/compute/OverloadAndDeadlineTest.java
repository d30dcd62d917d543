package dev.fibservice.compute;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.net.Raw;
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

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The limits around the workers: the in-flight cap answers 503 at once, the deadline answers 504, and
 * a computation nobody waits for any more (deadline passed, connection reset) really stops using the CPU.
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
    return service.node().admission();
  }

  /** Waits (bounded) until no computation is queued or running: the hang guard, not a speed check. */
  private void awaitIdle() throws Exception {
    Eventually.within(Duration.ofSeconds(30), () -> admission().inFlight() == 0);
    assertEquals(0, admission().inFlight(), "computations still running: cancellation did not stop them");
  }

  @Test
  void overloadGets503WithRetryAfterAtOnce() throws Exception {
    // fib(60) by naive recursion runs for hours and the deadline is far: only cancellation ends it
    start(Map.of("fib.heavyWorkers", "1", "fib.maxInFlight", "3", "fib.maxN.recursive", "60", "fib.timeoutMs", "600000"));
    List<Socket> admitted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Socket socket = Raw.connect(service.httpPort());
      Raw.send(socket, "GET /fib/60?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n");
      admitted.add(socket);
    }
    Eventually.within(Duration.ofSeconds(15), () -> admission().inFlight() >= 3);
    assertEquals(3, admission().inFlight());
    List<Future<HttpResponse<Buffer>>> heavy = new ArrayList<>();
    for (int i = 0; i < 27; i++) {
      heavy.add(client.get("/fib/60?algorithm=recursive").send());
    }
    // the 27 over the cap are refused without waiting for the 3 admitted ones, which never finish by themselves
    for (Future<HttpResponse<Buffer>> f : heavy) {
      HttpResponse<Buffer> r = f.await();
      assertEquals(503, r.statusCode());
      assertEquals("1", r.getHeader("Retry-After"));
      assertTrue(r.bodyAsJsonObject().getString("error").contains("fib.maxInFlight"), r.bodyAsString());
    }
    assertEquals(3, admission().inFlight());
    // the light lane is not taken by the heavy ones
    assertEquals("55", client.get("/fib/10").send().await().bodyAsJsonObject().getString("value"));
    // their clients reset their connections: the three admitted computations are cancelled
    for (Socket socket : admitted) {
      Raw.reset(socket);
    }
    awaitIdle();
  }

  @Test
  void deadlineGets504AndTheWorkStops() throws Exception {
    start(Map.of("fib.heavyWorkers", "1", "fib.maxN.recursive", "60", "fib.timeoutMs", "500"));
    HttpResponse<Buffer> r = client.get("/fib/60?algorithm=recursive").send().await();
    assertEquals(504, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("did not finish within fib.timeoutMs = 500 ms"),
      r.bodyAsString());
    awaitIdle();
    // the only heavy worker is free again
    assertEquals("832040", client.get("/fib/30?algorithm=recursive").send().await().bodyAsJsonObject().getString("value"));
  }

  @Test
  void aClientThatResetsItsConnectionStopsTheWork() throws Exception {
    start(Map.of("fib.heavyWorkers", "2", "fib.maxN.recursive", "60", "fib.timeoutMs", "600000", "shutdown.graceMs", "0"));
    HttpClient raw = vertx.createHttpClient(new HttpClientOptions());
    raw.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(service.httpPort())
        .setURI("/fib/60?algorithm=recursive"))
      .compose(req -> {
        req.send();
        return vertx.timer(300).compose(t -> req.connection().close());
      }).await();
    // a plain close is a FIN, which may be a half-close: the computation goes on, as for any client still reading
    try (Socket socket = Raw.connect(service.httpPort())) {
      Raw.send(socket, "GET /fib/60?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n");
      Eventually.within(Duration.ofSeconds(15), () -> admission().inFlight() >= 2);
      assertEquals(2, admission().inFlight());
      // a reset is a client that is gone: its computation stops
      Raw.reset(socket);
    }
    Eventually.within(Duration.ofSeconds(30), () -> admission().inFlight() <= 1);
    assertEquals(1, admission().inFlight(), "the reset did not cancel its computation");
  }
}
