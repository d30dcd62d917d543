package dev.fibservice.compute;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.api.Addresses;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Cancellation;
import dev.fibservice.math.Fibonacci;
import dev.fibservice.net.Raw;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Identical heavy doubling requests in flight at once share one computation, on a real node: on the front (HTTP) and
 * in the gateway (requests on the event bus, as other members' fronts send them). The node's only heavy worker is kept
 * busy by a recursive computation that never ends by itself, so that every request is surely in flight before anything
 * is computed; resetting that request's connection cancels it and lets the rest run. Outcome checks only: every wait is
 * bounded and generous.
 */
class SharedComputationTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

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

  private void start(Map<String, String> overrides) throws Exception {
    Map<String, String> all = new HashMap<>(Map.of("fib.heavyWorkers", "1", "fib.maxN.recursive", "60",
      "fib.timeoutMs", "600000", "fib.warmup", "false"));
    all.putAll(overrides);
    service = TestNodes.start(all);
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(service.httpPort()), new PoolOptions().setHttp1MaxSize(32));
  }

  private Results results() {
    return service.node().results();
  }

  /** Doubling computations this node finished. */
  private long doublingsComputed() {
    Timer timer = service.node().metrics().registry().find("fib_compute").tag("algorithm", "doubling").timer();
    return timer == null ? 0 : timer.count();
  }

  /** Occupies the only heavy worker with F(60) by naive recursion (hours): what comes next waits behind it. */
  private Socket blockHeavyLane() throws Exception {
    Socket socket = Raw.connect(service.httpPort());
    Raw.send(socket, "GET /fib/60?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n");
    Eventually.await("the recursive computation admitted", WAIT, () -> service.node().admission().inFlight(false) == 1);
    return socket;
  }

  /** A client gone (a reset, not a half-close): its recursive computation is cancelled, the lane runs what waits. */
  private static void unblock(Socket blocker) throws Exception {
    Raw.reset(blocker);
  }

  private void awaitIdle() throws Exception {
    Eventually.await("nothing in flight", WAIT, () -> service.node().admission().inFlight() == 0);
  }

  private static String digits(int n) {
    return Fibonacci.digits(Algorithm.DOUBLING, n, new Cancellation());
  }

  private static Socket ask(int port, String path) throws Exception {
    Socket socket = Raw.connect(port);
    Raw.send(socket, "GET " + path + " HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
    return socket;
  }

  private Future<Message<JsonObject>> onTheBus(int n, String cancelId) {
    return service.vertx().eventBus().request(Addresses.FIB_COMPUTE, new JsonObject().put("n", n),
      new DeliveryOptions().addHeader(Addresses.CANCEL_ID_HEADER, cancelId).setSendTimeout(WAIT.toMillis() * 2));
  }

  private void cancel(String cancelId) {
    service.vertx().eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", cancelId));
  }

  @Test
  void manyConcurrentHttpCallersShareOneComputation() throws Exception {
    start(Map.of());
    Socket blocker = blockHeavyLane();
    List<Future<HttpResponse<Buffer>>> gets = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> heads = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      gets.add(client.get("/fib/300000").putHeader("Accept", "text/plain").send());
      heads.add(client.request(HttpMethod.HEAD, "/fib/300000").putHeader("Accept", "text/plain").send());
    }
    Eventually.await("eleven callers joined the first", WAIT, () -> results().coalesced(Results.Side.FRONT) == 11);
    unblock(blocker);
    String expected = digits(300_000) + "\n";
    for (Future<HttpResponse<Buffer>> get : gets) {
      HttpResponse<Buffer> r = get.await();
      assertEquals(200, r.statusCode());
      assertEquals(expected, r.bodyAsString());
    }
    for (Future<HttpResponse<Buffer>> head : heads) {
      HttpResponse<Buffer> r = head.await();
      assertEquals(200, r.statusCode());
      assertEquals(String.valueOf(expected.length()), r.getHeader("Content-Length"));
      assertNull(r.body());
    }
    assertEquals(1, doublingsComputed(), "twelve identical requests, one computation");
    assertEquals(0, results().front().inFlight());
  }

  @Test
  void aCallerThatGoesAwayLeavesTheOthersTheirAnswer() throws Exception {
    start(Map.of());
    Socket blocker = blockHeavyLane();
    List<Socket> callers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      callers.add(ask(service.httpPort(), "/fib/300001"));
    }
    Eventually.await("three callers", WAIT, () -> results().front().callers(300_001) == 3);
    Raw.reset(callers.get(0));
    Eventually.await("the first caller left", WAIT, () -> results().front().callers(300_001) == 2);
    unblock(blocker);
    String expected = digits(300_001) + "\n";
    for (Socket caller : callers.subList(1, 3)) {
      try (caller) {
        List<Raw.HttpReply> replies = Raw.httpReplies(Raw.readToEnd(caller));
        assertEquals(1, replies.size());
        assertEquals(200, replies.get(0).status());
        assertEquals(expected, replies.get(0).body());
      }
    }
    assertEquals(1, doublingsComputed());
  }

  @Test
  void whenEveryCallerIsGoneTheComputationIsCancelled() throws Exception {
    start(Map.of());
    Socket blocker = blockHeavyLane();
    List<Socket> callers = List.of(ask(service.httpPort(), "/fib/300002"), ask(service.httpPort(), "/fib/300002"));
    Eventually.await("two callers", WAIT, () -> results().front().callers(300_002) == 2);
    for (Socket caller : callers) {
      Raw.reset(caller);
    }
    Eventually.await("the call forgotten", WAIT, () -> results().front().inFlight() == 0);
    unblock(blocker);
    awaitIdle();
    assertEquals(0, doublingsComputed(), "nobody waited for it: it was cancelled before it started");
    assertNull(results().cache().acquire(300_002));
    // the next caller starts afresh, not joining the cancelled one
    HttpResponse<Buffer> r = client.get("/fib/300002").putHeader("Accept", "text/plain").send().await();
    assertEquals(200, r.statusCode());
    assertEquals(digits(300_002) + "\n", r.bodyAsString());
    assertEquals(1, doublingsComputed());
  }

  @Test
  void theGatewaySharesOneComputationAmongRequestsFromEveryFront() throws Exception {
    start(Map.of());
    Socket blocker = blockHeavyLane();
    List<Future<Message<JsonObject>>> shared = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      shared.add(onTheBus(300_003, "c" + i));
    }
    List<Future<Message<JsonObject>>> abandoned = List.of(onTheBus(300_004, "c4"), onTheBus(300_004, "c5"));
    Eventually.await("three requests joined another", WAIT, () -> results().coalesced(Results.Side.GATEWAY) == 3);
    cancel("c1");
    ReplyException left = assertInstanceOf(ReplyException.class, awaitFailure(shared.get(0)));
    assertEquals(FibonacciVerticle.CANCELLED, left.failureCode(), "the cancelled caller is answered at once");
    cancel("c4");
    cancel("c5");
    for (Future<Message<JsonObject>> f : abandoned) {
      assertEquals(FibonacciVerticle.CANCELLED, assertInstanceOf(ReplyException.class, awaitFailure(f)).failureCode());
    }
    unblock(blocker);
    String expected = digits(300_003);
    for (Future<Message<JsonObject>> f : shared.subList(1, 3)) {
      JsonObject reply = f.await().body();
      assertEquals(expected, reply.getString("value"));
      assertEquals(300_003, reply.getInteger("n"));
    }
    awaitIdle();
    assertEquals(1, doublingsComputed(), "F(300003) once for its two callers left; F(300004) never");
    CachedResult kept = results().cache().acquire(300_003);
    assertTrue(kept != null, "the finished result is kept");
    kept.release();
    assertNull(results().cache().acquire(300_004));
    // the gateway answers the next request from the cache
    assertEquals(expected, onTheBus(300_003, "c6").await().body().getString("value"));
    assertEquals(1, results().hits(Results.Side.GATEWAY));
    assertEquals(1, doublingsComputed());
  }

  @Test
  void pastTheShutdownGraceEveryCallerOfASharedComputationIsAnswered503() throws Exception {
    start(Map.of("shutdown.graceMs", "500"));
    Socket blocker = blockHeavyLane();
    // the TCP front has no shared calls of its own: each line reaches the gateway, which shares the computation
    try (Socket tcp = Raw.connect(service.tcpPort())) {
      Raw.send(tcp, "300006\n300006\n");
      Eventually.await("one caller joined the other", WAIT, () -> results().coalesced(Results.Side.GATEWAY) == 1);
      Thread stopping = new Thread(() -> {
        try {
          TestNodes.stop(service);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      stopping.start();
      java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(tcp.getInputStream(),
        java.nio.charset.StandardCharsets.US_ASCII));
      for (int i = 0; i < 2; i++) {
        String line = lines.readLine();
        assertTrue(line != null && line.startsWith("[Error] the service is shutting down and this computation ran past"
          + " the grace period (shutdown.graceMs)"), line == null ? "closed" : line.substring(0, Math.min(120,
          line.length())));
      }
      stopping.join(WAIT.toMillis());
      service = null;
    } finally {
      blocker.close();
    }
  }

  @Test
  void withTheSwitchesOffEveryRequestComputes() throws Exception {
    start(Map.of("fib.singleFlight", "false", "fib.cacheBytes", "0"));
    Socket blocker = blockHeavyLane();
    List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(client.get("/fib/300005").putHeader("Accept", "text/plain").send());
    }
    Eventually.await("three computations admitted", WAIT, () -> service.node().admission().inFlight(false) == 4);
    unblock(blocker);
    String expected = digits(300_005) + "\n";
    for (Future<HttpResponse<Buffer>> call : calls) {
      assertEquals(expected, call.await().bodyAsString());
    }
    assertEquals(expected, client.get("/fib/300005").putHeader("Accept", "text/plain").send().await().bodyAsString());
    assertEquals(4, doublingsComputed());
    for (Results.Side side : Results.Side.values()) {
      assertEquals(0, results().coalesced(side));
      assertEquals(0, results().hits(side));
    }
    assertEquals(0, results().cache().entries());
  }

  private static Throwable awaitFailure(Future<?> future) throws Exception {
    Eventually.await("an answer", WAIT, future::isComplete);
    assertTrue(future.failed(), "expected a failure, got " + future.result());
    return future.cause();
  }
}
