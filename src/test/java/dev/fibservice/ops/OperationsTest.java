package dev.fibservice.ops;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metrics, health, request ids and the HTTP limits of a real node on real sockets. */
class OperationsTest {

  private FibService service;
  private Vertx vertx;
  private WebClient client;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await();
    TestNodes.stop(service);
  }

  private void start(Map<String, ?> overrides) throws Exception {
    service = TestNodes.start(overrides);
    client = TestNodes.client(vertx, service);
  }

  private HttpResponse<Buffer> get(String uri) throws Exception {
    return client.get(uri).send().await();
  }

  private static long series(String prometheusText) {
    return prometheusText.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).count();
  }

  /** The soak reads these two: how late each event loop runs its timers, and Netty's memory off the heap. */
  @Test
  void eventLoopLagAndNettysDirectMemoryAreMeasured() throws Exception {
    start(Map.of("eventLoops", 2));
    // two loops, a timer every 100 ms on each: 30 lateness records within a few seconds
    dev.fibservice.Eventually.await("the lag timers to run on both loops", java.time.Duration.ofSeconds(30), () -> {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^fib_event_loop_lag_seconds_count (\\S+)")
        .matcher(get("/metrics").bodyAsString());
      return m.find() && Double.parseDouble(m.group(1)) > 30;
    }, () -> "");
    String text = get("/metrics").bodyAsString();
    assertTrue(text.contains("fib_event_loop_lag_seconds_max "), text);
    java.util.regex.Matcher netty = java.util.regex.Pattern.compile("(?m)^fib_netty_direct_memory_bytes (\\S+)")
      .matcher(text);
    assertTrue(netty.find(), text);
    // the node has sockets open: Netty holds some memory off the heap, or says it leaves the count to the JVM
    double bytes = Double.parseDouble(netty.group(1));
    assertTrue(bytes > 0 || bytes == -1, netty.group());
  }

  @Test
  void metricsHaveBoundedLabels() throws Exception {
    start(Map.of());
    get("/fib/30");
    get("/fib/31?algorithm=iterative");
    get("/hello");
    get("/nope");
    String before = get("/metrics").bodyAsString();
    assertTrue(before.contains("fib_http_server_requests_seconds_count{code=\"200\",method=\"GET\",route=\"/fib/:n\"}"),
      before);
    assertTrue(before.contains("fib_compute_seconds_count{algorithm=\"doubling\"}"));
    assertTrue(before.contains("fib_compute_seconds_count{algorithm=\"iterative\"}"));
    assertTrue(before.contains("fib_in_flight{lane=\"heavy\"}"));
    assertTrue(before.contains("jvm_memory_used_bytes"));
    assertTrue(before.contains("fib_event_loop_blocked_total"));
    for (int i = 0; i < 1000; i++) {
      assertEquals(404, get("/no/such/path/" + i + "?q=" + i).statusCode());
      if (i % 100 == 0) {
        get("/fib/" + i);
      }
    }
    String after = get("/metrics").bodyAsString();
    assertFalse(after.contains("/no/such/path"), "raw paths must never become labels");
    // a handful of new series may appear (a new status code, a scrape's own counters), never ~1000
    long growth = series(after) - series(before);
    assertTrue(growth < 20, "series grew by " + growth + " with 1000 distinct paths");
  }

  /** The HTTP metrics the verticles record: by route template, fast path and router alike, failures included. */
  @Test
  void httpMetricsByRouteTemplateMethodAndStatus() throws Exception {
    start(Map.of());
    get("/hello");
    get("/hello?repeat=3");
    get("/hello?repeat=0");
    get("/fib/12");
    get("/fib/x");
    get("/nope/1");
    get("/nope/2");
    assertEquals(405, client.delete("/hello").send().await().statusCode());
    String text = get("/metrics").bodyAsString();
    assertEquals(2.0, sample(text, "fib_http_server_requests_seconds_count{code=\"200\",method=\"GET\",route=\"/hello\"}"));
    assertEquals(1.0, sample(text, "fib_http_server_requests_seconds_count{code=\"400\",method=\"GET\",route=\"/hello\"}"));
    assertEquals(1.0, sample(text, "fib_http_server_requests_seconds_count{code=\"200\",method=\"GET\",route=\"/fib/:n\"}"));
    assertEquals(1.0, sample(text, "fib_http_server_requests_seconds_count{code=\"400\",method=\"GET\",route=\"/fib/:n\"}"));
    assertEquals(2.0, sample(text, "fib_http_server_requests_seconds_count{code=\"404\",method=\"GET\",route=\"unmatched\"}"));
    assertEquals(1.0, sample(text,
      "fib_http_server_requests_seconds_count{code=\"405\",method=\"DELETE\",route=\"unmatched\"}"));
    assertTrue(sample(text, "fib_http_server_requests_seconds_sum{code=\"200\",method=\"GET\",route=\"/fib/:n\"}") > 0);
    // only the scrape itself is in progress, over the client's one connection
    assertEquals(1.0, sample(text, "fib_http_server_active_requests"));
    assertTrue(sample(text, "fib_http_server_active_connections") >= 1.0, text);
    assertFalse(text.contains("vertx_http_server_"), "Vert.x's own HTTP server metrics are off");
  }

  /** The value of one series in a Prometheus text exposition. */
  private static double sample(String prometheusText, String series) {
    return prometheusText.lines().filter(l -> l.startsWith(series + " ")).findFirst()
      .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
      .orElseThrow(() -> new AssertionError(series + " not found in:\n" + prometheusText));
  }

  @Test
  void metricsCanBeTurnedOff() throws Exception {
    start(Map.of("metrics.enabled", "false"));
    HttpResponse<Buffer> r = get("/metrics");
    assertEquals(404, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("metrics.enabled=false"));
    assertEquals("55", get("/fib/10").bodyAsJsonObject().getString("value"));
  }

  @Test
  void healthLiveAndReadyThenDraining() throws Exception {
    start(Map.of());
    HttpResponse<Buffer> live = get("/health/live");
    assertEquals(200, live.statusCode());
    assertEquals("UP", live.bodyAsJsonObject().getString("status"));
    HttpResponse<Buffer> ready = get("/health/ready");
    assertEquals(200, ready.statusCode(), ready.bodyAsString());
    assertEquals("UP", ready.bodyAsJsonObject().getString("outcome"));
    assertTrue(ready.bodyAsString().contains("\"workers\""));

    service.node().drain().start();
    HttpResponse<Buffer> draining = get("/health/ready");
    assertEquals(503, draining.statusCode());
    JsonObject body = draining.bodyAsJsonObject();
    assertEquals("DOWN", body.getString("outcome"));
    assertTrue(draining.bodyAsString().contains("draining"), draining.bodyAsString());
    assertEquals(200, get("/health/live").statusCode());
  }

  @Test
  void readinessIsDownWhenTheDatabaseIsDown() throws Exception {
    // a port where no database listens
    start(Map.of("mysql.host", "127.0.0.1", "mysql.port", "1", "mysql.connectTimeoutMs", "200"));
    HttpResponse<Buffer> ready = get("/health/ready");
    assertEquals(503, ready.statusCode());
    assertTrue(ready.bodyAsString().contains("\"database\""), ready.bodyAsString());
  }

  @Test
  void requestIdIsEchoedGeneratedAndReachesTheWorker() throws Exception {
    start(Map.of("fib.maxN.recursive", "60"));
    assertEquals("mine-42", client.get("/hello").putHeader("X-Request-Id", "mine-42").send().await()
      .getHeader("X-Request-Id"));
    String generated = get("/info").getHeader("X-Request-Id");
    assertNotNull(generated);
    assertTrue(generated.matches("[0-9a-f]{16}"), generated);
    // the id travels with the computation to the worker (for its log lines); it is not what cancels it
    java.util.Set<String> toWorkers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    service.vertx().eventBus().addOutboundInterceptor((io.vertx.core.eventbus.DeliveryContext<Object> ctx) -> {
      if (ctx.message().address().startsWith("fib.worker.")) {
        toWorkers.add(String.valueOf(ctx.message().headers().get("x-request-id")));
      }
      ctx.next();
    });
    HttpResponse<Buffer> computed = client.get("/fib/30").putHeader("X-Request-Id", "mine-77").send().await();
    assertEquals(200, computed.statusCode());
    assertEquals("mine-77", computed.getHeader("X-Request-Id"));
    assertTrue(toWorkers.contains("mine-77"), toWorkers.toString());
  }

  @Test
  void uriTooLongAndHeadersTooLarge() throws Exception {
    start(Map.of("http.maxUriBytes", "512", "http.maxHeaderBytes", "2048"));
    // the server closes a connection after these errors: one connection per request
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.httpPort())
      .setKeepAlive(false));
    HttpResponse<Buffer> uri = get("/hello?x=" + "a".repeat(600));
    assertEquals(414, uri.statusCode());
    assertEquals("the request line is longer than http.maxUriBytes (512 bytes)", uri.bodyAsJsonObject().getString("error"));
    HttpResponse<Buffer> headers = client.get("/hello").putHeader("X-Big", "b".repeat(3000)).send().await();
    assertEquals(431, headers.statusCode());
    assertEquals("the request headers are larger than http.maxHeaderBytes (2048 bytes)",
      headers.bodyAsJsonObject().getString("error"));
    assertEquals(2048, headers.bodyAsJsonObject().getJsonObject("detail").getInteger("max"));
    assertEquals(200, get("/hello?x=" + "a".repeat(100)).statusCode());
  }

  @Test
  void tooManyConnectionsAreRefusedCleanly() throws Exception {
    start(Map.of("http.maxConnections", "2", "instances", "1"));
    try (Socket a = open(); Socket b = open(); Socket c = open()) {
      assertTrue(exchange(a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"));
      assertTrue(exchange(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"));
      String refused = exchange(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(refused.startsWith("HTTP/1.1 503"), refused);
      assertTrue(refused.contains("http.maxConnections"), refused);
      assertEquals(-1, readToEnd(c), "the refused connection is closed");
    }
    // with the others gone (once the node has seen them close), a new connection is served again
    Eventually.within(Duration.ofSeconds(10), () -> get("/hello").statusCode() == 200);
    assertEquals(200, get("/hello").statusCode());
  }

  /** The header timeout runs from a request's first byte, on a new connection and on one that served a request. */
  @Test
  void aTricklingClientIsCutOff() throws Exception {
    // the idle timeout is left at its 60 s: a close within the trickle is the header timeout's
    start(Map.of("http.headerTimeoutMs", "500"));
    try (Socket s = open()) {
      assertTrue(cutOffWhileTrickling(s), "the server kept a trickling client");
    }
    try (Socket s = open()) {
      assertTrue(exchange(s, HELLO).startsWith("HTTP/1.1 200"));
      assertTrue(cutOffWhileTrickling(s), "the server kept a client trickling its second request");
    }
  }

  /** nginx's model: between requests a keep-alive connection has http.idleTimeoutSeconds, not the header timeout. */
  @Test
  void aKeepAliveConnectionWaitsTheIdleTimeoutNotTheHeaderTimeout() throws Exception {
    start(Map.of("http.headerTimeoutMs", "300", "http.idleTimeoutSeconds", "3"));
    try (Socket s = open()) {
      assertTrue(exchange(s, HELLO).startsWith("HTTP/1.1 200"));
      // waiting for its next request for longer than the header timeout (and its sweep's tick)
      Thread.sleep(1200);
      String second = exchange(s, HELLO);
      assertTrue(second.startsWith("HTTP/1.1 200"), "closed while waiting for its next request: '" + second + "'");
      s.setSoTimeout(60_000);
      assertEquals(-1, readToEnd(s), "the idle connection is closed after http.idleTimeoutSeconds");
    }
  }

  /**
   * Sends a request one byte every 100 ms (7 s for all of it, far longer than the header timeout and shorter than the
   * idle timeout); whether the server cut it off.
   */
  private static boolean cutOffWhileTrickling(Socket s) throws Exception {
    OutputStream out = s.getOutputStream();
    byte[] request = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
      .getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < request.length - 4; i++) {
      try {
        out.write(request[i]);
        out.flush();
        Thread.sleep(100);
      } catch (java.io.IOException e) {
        return true;
      }
    }
    s.setSoTimeout(2000);
    try {
      return readToEnd(s) == -1;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    }
  }

  @Test
  void tcpConnectionBurstTenTimesTheCap() throws Exception {
    start(Map.of("tcp.maxConnections", "3"));
    java.util.List<Socket> sockets = new java.util.ArrayList<>();
    try {
      int served = 0;
      int busy = 0;
      for (int i = 0; i < 30; i++) {
        Socket s = new Socket("127.0.0.1", service.tcpPort());
        s.setSoTimeout(10_000);
        sockets.add(s);
        s.getOutputStream().write("10\n".getBytes(StandardCharsets.US_ASCII));
        String reply = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
          StandardCharsets.US_ASCII)).readLine();
        if ("55".equals(reply)) {
          served++;
        } else {
          assertTrue(reply != null && reply.startsWith("[Error] busy: too many connections (3, tcp.maxConnections)"),
            String.valueOf(reply));
          busy++;
        }
      }
      assertEquals(3, served);
      assertEquals(27, busy);
      String metrics = get("/metrics").bodyAsString();
      assertTrue(metrics.contains("fib_tcp_connections 3.0"), metrics.lines().filter(l -> l.startsWith("fib_tcp"))
        .toList().toString());
      assertTrue(metrics.contains("fib_tcp_lines_total 3.0"));
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void transportThatCannotLoadHereIsAConfigError() {
    ConfigException e = assertThrows(ConfigException.class, () -> start(Map.of("transport", "kqueue")));
    assertTrue(e.getMessage().contains("expected one of auto, epoll, io_uring, nio"), e.getMessage());
  }

  private static final String HELLO = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

  private Socket open() throws Exception {
    Socket s = new Socket("127.0.0.1", service.httpPort());
    s.setSoTimeout(10_000);
    return s;
  }

  private static String exchange(Socket s, String request) throws Exception {
    s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    byte[] buf = new byte[8192];
    int n = in.read(buf);
    return n < 0 ? "" : new String(buf, 0, n, StandardCharsets.US_ASCII);
  }

  private static int readToEnd(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) > 0) {
      // drain whatever is left of a response
    }
    return n;
  }
}
