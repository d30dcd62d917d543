package dev.fibservice.ops;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ops.enabled: the operations endpoints on a port of their own, answering while the node drains. */
class OpsPortTest {

  private FibService service;
  private Vertx vertx;
  private WebClient ops;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  private void start(Map<String, String> more) throws Exception {
    Map<String, String> overrides = new HashMap<>(Map.of("ops.enabled", "true", "ops.port", "0"));
    overrides.putAll(more);
    service = TestNodes.start(overrides);
    // one connection: the ops port has a cap of its own (http.maxConnections, counted apart from HTTP's)
    ops = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.opsPort()),
      new PoolOptions().setHttp1MaxSize(1));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await();
    TestNodes.stop(service);
  }

  private HttpResponse<Buffer> get(String uri) throws Exception {
    return ops.get(uri).send().await();
  }

  @Test
  void servesHealthMetricsAndInfoOnly() throws Exception {
    start(Map.of());
    assertTrue(service.opsPort() > 0);
    assertNotEquals(service.httpPort(), service.opsPort());
    assertEquals(200, get("/health/live").statusCode());
    HttpResponse<Buffer> ready = get("/health/ready");
    assertEquals(200, ready.statusCode(), ready.bodyAsString());
    assertEquals("UP", ready.bodyAsJsonObject().getString("outcome"));
    HttpResponse<Buffer> metrics = get("/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.bodyAsString().contains("jvm_memory_used_bytes"), "no JVM series on the ops port");
    JsonObject info = get("/info").bodyAsJsonObject();
    assertEquals("ops", info.getString("servedBy"));
    assertEquals("test", info.getString("node"));
    assertEquals(200, ops.head("/health/live").send().await().statusCode());
    // the API stays on the HTTP port
    HttpResponse<Buffer> fib = get("/fib/10");
    assertEquals(404, fib.statusCode());
    assertTrue(fib.bodyAsJsonObject().getString("error").contains("/fib/10"), fib.bodyAsString());
    HttpResponse<Buffer> post = ops.post("/health/ready").send().await();
    assertEquals(405, post.statusCode());
    assertTrue(post.getHeader("Allow").contains("GET"), post.headers().toString());
  }

  @Test
  void probesGetInWhileHttpIsAtItsConnectionCap() throws Exception {
    start(Map.of("http.maxConnections", "1"));
    try (Socket held = new Socket("127.0.0.1", service.httpPort())) {
      held.getOutputStream().write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(new String(held.getInputStream().readNBytes(12), StandardCharsets.US_ASCII).endsWith("200"));
      HttpResponse<Buffer> refused = TestNodes.client(vertx, service).get("/hello").send().await();
      assertEquals(503, refused.statusCode(), "the HTTP cap holds");
      assertEquals(200, get("/health/live").statusCode());
      HttpResponse<Buffer> ready = get("/health/ready");
      assertEquals(200, ready.statusCode(), ready.bodyAsString());
    }
  }

  @Test
  void readinessSaysDrainingWhileTheNodeDrains() throws Exception {
    start(Map.of());
    // a computation that takes seconds keeps the drain going while readiness is asked
    CountDownLatch computing = new CountDownLatch(1);
    service.vertx().eventBus().addOutboundInterceptor((DeliveryContext<Object> ctx) -> {
      if (ctx.message().address().startsWith("fib.worker.")) {
        computing.countDown();
      }
      ctx.next();
    });
    var slow = TestNodes.client(vertx, service).get("/fib/42?algorithm=recursive").timeout(60_000).send();
    assertTrue(computing.await(30, TimeUnit.SECONDS), "the computation never reached a worker");
    FibService stopping = service;
    service = null;
    Thread stopper = new Thread(stopping::stop, "test-stop");
    stopper.start();
    try {
      HttpResponse<Buffer> ready = Eventually.poll(Duration.ofSeconds(10), () -> get("/health/ready"),
        r -> r.statusCode() == 503);
      assertEquals(503, ready.statusCode(), ready.bodyAsString());
      assertTrue(ready.bodyAsString().contains("draining"), ready.bodyAsString());
      assertEquals(200, slow.await().statusCode(), "the request in flight finishes within the grace period");
    } finally {
      stopper.join(60_000);
    }
  }
}
