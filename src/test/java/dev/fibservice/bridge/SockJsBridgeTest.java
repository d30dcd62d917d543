package dev.fibservice.bridge;

import ch.qos.logback.classic.Level;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNode;
import dev.fibservice.db.CapturedLog;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.handler.sockjs.impl.EventBusBridgeImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SockJS event-bus bridge from outside, with a raw WebSocket client that sends what the official client never
 * would, and over SockJS's own framing and its XHR transport: replies and errors on the reply address, the permission
 * table, the origin rule, scoped cancellation, fib.stats pushes only while registered, connections counted.
 */
class SockJsBridgeTest {

  @RegisterExtension
  static final TestNode node = TestNode.start(Map.of("instances", "2"));

  private static FibService service() {
    return node.service();
  }

  private static RawSocket open() throws Exception {
    return RawSocket.open(service().httpPort(), null);
  }

  @Test
  void computesAndAnswersEveryFailureOnItsReplyAddress() throws Exception {
    try (RawSocket ws = open()) {
      ws.send("fib.compute", "r1", new JsonObject().put("n", 30));
      JsonObject reply = ws.next();
      assertEquals("rec", reply.getString("type"), reply.encode());
      assertEquals("r1", reply.getString("address"));
      assertEquals("832040", reply.getJsonObject("body").getString("value"));

      ws.send("fib.compute", "r2", new JsonObject().put("n", -1));
      assertFailure(ws.next(), "r2", 400, "n must not be negative, got -1");
      ws.send("fib.compute", "r3", new JsonObject().put("n", 50).put("algorithm", "recursive"));
      assertFailure(ws.next(), "r3", 400, "n = 50 is above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)");
      ws.send("fib.compute", "r4", "thirty");
      assertFailure(ws.next(), "r4", 400, "body must be a JSON object");
      // jobs.* answer, not silence: 503 with the database off
      ws.send("jobs.status", "r5", new JsonObject().put("id", "nope"));
      assertFailure(ws.next(), "r5", 503, "the database features are off");
    }
  }

  @Test
  void refusesWhatThePermissionTableLacksAndSurvivesGarbage() throws Exception {
    try (CapturedLog log = new CapturedLog(EventBusBridgeImpl.class, SockJsBridge.class);
         RawSocket ws = open()) {
      // a send with a replyAddress is refused there, so that the official client's callback hears it
      ws.send("fib.worker.heavy", "r1", new JsonObject().put("n", 5));
      assertFailure(ws.next(), "r1", 403, "access_denied: clients may not send to fib.worker.heavy");
      ws.send(new JsonObject().put("type", "publish").put("address", "fib.worker.heavy").put("body", 1));
      assertError(ws.next(), "access_denied");
      ws.send(new JsonObject().put("type", "register").put("address", "fib.compute"));
      assertError(ws.next(), "access_denied");
      ws.send(new JsonObject().put("type", "publish").put("address", "jobs.submit").put("body", new JsonObject()));
      assertError(ws.next(), "access_denied");
      ws.send(new JsonObject().put("type", "send").put("address", "fib.compute").put("body", new JsonObject()));
      assertError(ws.next(), "missing_reply_address");
      ws.send("fib.compute", "x".repeat(37), new JsonObject().put("n", 1));
      assertError(ws.next(), "invalid_reply_address");
      ws.send(new JsonObject().put("type", "send").put("address", "a".repeat(100_000)).put("replyAddress", "r"));
      assertError(ws.next(), "max_address_length_reached");
      ws.send(new JsonObject().put("type", "nonsense").put("address", "fib.compute"));
      assertError(ws.next(), "invalid_type");
      ws.send(new JsonObject().put("type", 7));
      assertError(ws.next(), "missing_type");
      ws.send(new JsonObject().put("type", "send").put("address", 7));
      assertError(ws.next(), "missing_address");
      ws.sendText("{not json");
      assertError(ws.next(), "invalid_json");
      ws.sendText("[1,2]");
      assertError(ws.next(), "invalid_json");
      ws.send(new JsonObject().put("type", "register").put("address", "fib.stats"));
      ws.send(new JsonObject().put("type", "register").put("address", "fib.stats"));
      assertError(ws.next(), "address_already_registered");
      // and the socket still works
      ws.send("fib.compute", "ok", new JsonObject().put("n", 10));
      assertEquals("55", ws.next("ok").getJsonObject("body").getString("value"));
      assertEquals(0, log.count(Level.ERROR, "") + log.count(Level.WARN, ""), log.text());
    }
  }

  @Test
  void pushesStatsOncePerSecondOnlyWhileASocketIsRegistered() throws Exception {
    StatsFeed feed = service().statsFeed();
    Eventually.await("no subscriber left from other tests", Duration.ofSeconds(30), () -> feed.subscribers() == 0);
    long idle = feed.pushes();
    try (RawSocket ws = open()) {
      ws.send(new JsonObject().put("type", "register").put("address", "fib.stats"));
      JsonObject push = ws.next("fib.stats");
      assertEquals("rec", push.getString("type"));
      JsonObject stats = push.getJsonObject("body");
      assertEquals("test", stats.getString("node"));
      assertEquals(2, stats.getJsonArray("http").size(), stats.encode());
      assertNotNull(stats.getJsonObject("inFlight").getInteger("maxPerLane"), stats.encode());
      assertNotNull(stats.getDouble("requestsPerSecond"), stats.encode());
      assertTrue(stats.getJsonArray("workers").stream().anyMatch(w -> ((JsonObject) w).getString("worker")
        .endsWith("/light-1")), stats.encode());
      assertNull(stats.getJsonObject("cluster"), "a node alone has no cluster part");
      ws.next("fib.stats");
      assertEquals(1, feed.subscribers());
      ws.send(new JsonObject().put("type", "unregister").put("address", "fib.stats"));
      Eventually.await("the unregistered socket leaves the feed", Duration.ofSeconds(30), () -> feed.subscribers() == 0);
      long after = feed.pushes();
      assertTrue(after > idle, "pushes were made while registered");
      // no subscriber: the timer is off (two push periods and a half, a bound on waiting for nothing)
      Thread.sleep(2500);
      assertEquals(after, feed.pushes(), "pushes with nobody registered");
      ws.send(new JsonObject().put("type", "register").put("address", "fib.stats"));
      ws.next("fib.stats");
    }
    Eventually.await("a closed socket leaves the feed", Duration.ofSeconds(30), () -> feed.subscribers() == 0);
  }

  @Test
  void aSocketCancelsOnlyItsOwnRequests() throws Exception {
    try (RawSocket victim = open(); RawSocket other = open()) {
      JsonObject slow = new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", "v1")
        .put("headers", new JsonObject().put("x-request-id", "same")).put("body", new JsonObject().put("n", 45)
          .put("algorithm", "recursive"));
      victim.send(slow);
      Eventually.await("the victim's computation runs", Duration.ofSeconds(30),
        () -> service().node().admission().inFlight(false) == 1);
      other.send(new JsonObject().put("type", "publish").put("address", "fib.cancel")
        .put("body", new JsonObject().put("id", "same")));
      other.send("fib.compute", "o1", new JsonObject().put("n", 7));
      assertEquals("13", other.next("o1").getJsonObject("body").getString("value"));
      assertEquals(1, service().node().admission().inFlight(false), "another socket's fib.cancel cancelled nothing");
      victim.send(new JsonObject().put("type", "publish").put("address", "fib.cancel")
        .put("body", new JsonObject().put("id", "same")));
      JsonObject cancelled = victim.next("v1");
      assertEquals(499, cancelled.getInteger("failureCode"), cancelled.encode());
    }
  }

  @Test
  void aForeignPageMayComputeButNotSubmitJobs() throws Exception {
    try (RawSocket foreign = RawSocket.open(service().httpPort(), "http://evil.example")) {
      foreign.send("jobs.submit", "j1", new JsonObject().put("n", 10));
      assertFailure(foreign.next(), "j1", 403, "origin http://evil.example may not send jobs.submit");
      foreign.send("fib.compute", "c1", new JsonObject().put("n", 30));
      assertEquals("832040", foreign.next("c1").getJsonObject("body").getString("value"));
      foreign.send("jobs.status", "s1", new JsonObject().put("id", "x"));
      assertFailure(foreign.next("s1"), "s1", 503, "the database features are off");
    }
    // the service's own page may (here the database is off: 503, not 403)
    try (RawSocket own = RawSocket.open(service().httpPort(), "http://127.0.0.1:" + service().httpPort())) {
      own.send("jobs.submit", "j2", new JsonObject().put("n", 10));
      assertFailure(own.next(), "j2", 503, "the database features are off");
    }
  }

  @Test
  void sockJsFramingAndTheXhrTransportCarryTheSameBridge() throws Exception {
    // SockJS's own WebSocket framing: "o", then arrays of messages
    java.util.concurrent.BlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    // the handler is set on the socket's event loop as it opens: the server's "o" may come before await() returns
    var ws = node.clientVertx().createWebSocketClient()
      .connect(service().httpPort(), "127.0.0.1", "/eventbus/123/abcdefgh/websocket")
      .onSuccess(open -> open.textMessageHandler(frames::add)).await();
    assertEquals("o", frames.poll(30, java.util.concurrent.TimeUnit.SECONDS));
    ws.writeTextMessage(new JsonArray().add(new JsonObject().put("type", "send").put("address", "fib.compute")
      .put("replyAddress", "w1").put("body", new JsonObject().put("n", 20)).encode()).encode()).await();
    String frame = frames.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertNotNull(frame);
    assertTrue(frame.startsWith("a"), frame);
    JsonObject reply = new JsonObject(new JsonArray(frame.substring(1)).getString(0));
    assertEquals("6765", reply.getJsonObject("body").getString("value"), reply.encode());
    ws.close().await();

    // XHR polling: open, send (a POST of text/plain from any page), poll for the reply
    String session = "/eventbus/456/xhrsess1";
    HttpResponse<Buffer> opened = post(session + "/xhr", null);
    assertEquals("o\n", opened.bodyAsString());
    // vertx-web closes the connection after a poll: said, so that no client reuses it for the next request
    assertEquals("close", opened.getHeader("Connection"));
    String send = new JsonArray().add(new JsonObject().put("type", "send").put("address", "fib.compute")
      .put("replyAddress", "x1").put("body", new JsonObject().put("n", 12)).encode()).encode();
    assertEquals(204, post(session + "/xhr_send", send).statusCode());
    String polled = post(session + "/xhr", null).bodyAsString();
    assertTrue(polled.startsWith("a"), polled);
    assertEquals("144", new JsonObject(new JsonArray(polled.substring(1).trim()).getString(0))
      .getJsonObject("body").getString("value"));
  }

  @Test
  void webSocketsCountTowardHttpConnectionsUntilTheyClose() throws Exception {
    var open = service().node().http().connections();
    // an XHR session of another test lives on for SockJS's session timeout (5 s) after its last poll
    Eventually.await("other tests' connections and sessions closed", Duration.ofSeconds(30),
      () -> open.open() == 0 && service().sockJs().connections().open() == 0);
    try (RawSocket a = open(); RawSocket b = open()) {
      a.send("fib.compute", "a", new JsonObject().put("n", 1));
      b.send("fib.compute", "b", new JsonObject().put("n", 1));
      a.next();
      b.next();
      assertEquals(2, open.open());
      assertEquals(2, service().sockJs().connections().open());
    }
    Eventually.await("closed WebSockets no longer count", Duration.ofSeconds(30),
      () -> open.open() == 0 && service().sockJs().connections().open() == 0);
  }

  @Test
  void anyPageReadsTheInfoButTheBridgeIsNotUnderTheRestApisRules() throws Exception {
    HttpResponse<Buffer> info = node.client().get("/eventbus/info").putHeader("Origin", "http://evil.example")
      .send().await();
    assertEquals(200, info.statusCode());
    assertFalse(info.bodyAsJsonObject().getBoolean("cookie_needed"), "no JSESSIONID cookie");
    assertNull(info.getHeader("Set-Cookie"));
    // the transports that open sessions with GETs any page can make without an Origin header are off
    assertEquals(404, node.client().get("/eventbus/1/jsonpsess/jsonp?c=x").send().await().statusCode());
    assertEquals(404, node.client().get("/eventbus/1/evsess/eventsource").send().await().statusCode());
    assertEquals(404, node.client().get("/eventbus/1/htmlsess/htmlfile?c=x").send().await().statusCode());
    // the iframe page loads the page's own copy of sockjs-client, from no CDN
    String iframe = node.client().get("/eventbus/iframe.html").send().await().bodyAsString();
    assertTrue(iframe.contains("src=\"/ui/vendor/sockjs.min.js\""), iframe);
  }

  private HttpResponse<Buffer> post(String path, String body) throws Exception {
    var request = node.client().request(HttpMethod.POST, path).putHeader("Content-Type", "text/plain");
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await();
  }

  static void assertFailure(JsonObject frame, String replyAddress, int code, String message) {
    assertEquals("err", frame.getString("type"), frame.encode());
    assertEquals(replyAddress, frame.getString("address"), frame.encode());
    assertEquals(code, frame.getInteger("failureCode"), frame.encode());
    assertTrue(frame.getString("message").startsWith(message), frame.encode());
  }

  static void assertError(JsonObject frame, String word) {
    assertEquals("err", frame.getString("type"), frame.encode());
    assertNull(frame.getString("address"), frame.encode());
    assertEquals(word, frame.getString("body"), frame.encode());
    assertNotNull(frame.getString("message"), frame.encode());
  }
}
