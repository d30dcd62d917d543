package dev.fibservice.bridge;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static dev.fibservice.bridge.SockJsBridgeTest.assertError;
import static dev.fibservice.bridge.SockJsBridgeTest.assertFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SockJS bridge's caps, each a config key, against clients that hoard sockets, requests and unread replies. */
class SockJsLimitsTest {

  private FibService service;

  private void start(Map<String, String> overrides) throws Exception {
    service = TestNodes.start(new HashMap<>(overrides));
  }

  @AfterEach
  void stop() throws Exception {
    TestNodes.stop(service);
  }

  private RawSocket open() throws Exception {
    return RawSocket.open(service.httpPort(), null);
  }

  @Test
  void requestsBeyondTheSocketsInFlightCapAreAnswered503AtOnce() throws Exception {
    start(Map.of("sockjs.maxInFlightPerSocket", "2"));
    try (RawSocket ws = open()) {
      JsonObject slow = new JsonObject().put("n", 45).put("algorithm", "recursive");
      ws.send("fib.compute", "s1", slow);
      ws.send("fib.compute", "s2", slow);
      ws.send("fib.compute", "s3", new JsonObject().put("n", 1));
      assertFailure(ws.next("s3"), "s3", 503, "busy: this socket has 2 requests in flight (sockjs.maxInFlightPerSocket)");
    }
    // closing the socket cancelled the two
    Eventually.await("the closed socket's computations are cancelled", Duration.ofSeconds(30),
      () -> service.node().admission().inFlight() == 0);
  }

  @Test
  void theComputationsOwnDeadlineReachesTheClientAs504() throws Exception {
    start(Map.of("fib.timeoutMs", "1000", "fib.maxN.recursive", "60"));
    try (RawSocket ws = open()) {
      ws.send("fib.compute", "t", new JsonObject().put("n", 60).put("algorithm", "recursive"));
      assertFailure(ws.next("t"), "t", 504, "F(60) with algorithm recursive");
    }
  }

  @Test
  void theReplyTimeoutMustExceedTheComputationsDeadline() {
    Settings defaults = Settings.defaults();
    ConfigException e = assertThrows(ConfigException.class,
      () -> defaults.with(Map.of("sockjs.replyTimeoutMs", "30000")));
    assertEquals("sockjs.replyTimeoutMs: 30000 is not accepted (from override); it must exceed fib.timeoutMs (30000,"
      + " from default), so that SockJS clients see the computation's own 504", e.getMessage());
    // left unset, it follows a raised deadline rather than refuse to start
    assertEquals(65000, defaults.with(Map.of("fib.timeoutMs", "60000")).getInt(Settings.SOCKJS_REPLY_TIMEOUT_MS));
  }

  @Test
  void socketsBeyondTheNodesCapAreToldAndClosed() throws Exception {
    start(Map.of("sockjs.maxConnections", "1"));
    try (RawSocket first = open(); RawSocket second = open()) {
      assertError(second.next(), "busy");
      Eventually.await("the refused socket is closed", Duration.ofSeconds(30), second::closed);
      first.send("fib.compute", "f", new JsonObject().put("n", 3));
      assertEquals("2", first.next("f").getJsonObject("body").getString("value"));
      assertEquals(1, service.sockJs().connections().open());
    }
  }

  @Test
  void aClientThatTakesNoneOfWhatItIsSentIsClosed() throws Exception {
    start(Map.of("sockjs.maxWriteQueueBytes", "65536"));
    try (RawSocket ws = open()) {
      ws.pause();
      // each frame of a kind no client sends is answered with an error frame that this client never reads
      String junk = new JsonObject().put("type", "junk").encode();
      Future<Void> last = null;
      for (int i = 0; i < 300_000 && service.sockJs().connections().open() > 0; i++) {
        last = ws.socket().writeTextMessage(junk);
        if (i % 2000 == 0) {
          try {
            last.await();
          } catch (Exception e) {
            break; // closed by the server
          }
        }
      }
      Eventually.await("the socket is closed", Duration.ofSeconds(60),
        () -> service.sockJs().connections().open() == 0);
    }
  }

  @Test
  void aSocketThatNeverPingsIsClosedAfterThePingTimeout() throws Exception {
    start(Map.of("sockjs.pingTimeoutMs", "1000"));
    try (RawSocket ws = open()) {
      Eventually.await("the silent socket is closed", Duration.ofSeconds(30), ws::closed);
      Eventually.await("the node counts it closed", Duration.ofSeconds(30),
        () -> service.sockJs().connections().open() == 0);
    }
  }

  @Test
  void pagesOfOriginsThatMayNotReadGetNoSocket() throws Exception {
    start(Map.of("http.corsOrigin", "http://good.example"));
    Vertx vertx = Vertx.vertx();
    try {
      Exception refused = assertThrows(Exception.class, () -> vertx.createWebSocketClient()
        .connect(new io.vertx.core.http.WebSocketConnectOptions().setHost("127.0.0.1").setPort(service.httpPort())
          .setURI("/eventbus/websocket").addHeader("Origin", "http://evil.example")).await());
      assertTrue(refused instanceof UpgradeRejectedException r && r.getStatus() == 403, String.valueOf(refused));
      WebSocket good = vertx.createWebSocketClient().connect(new io.vertx.core.http.WebSocketConnectOptions()
        .setHost("127.0.0.1").setPort(service.httpPort()).setURI("/eventbus/websocket")
        .addHeader("Origin", "http://good.example")).await();
      good.close().await();
      var info = WebClient.create(vertx).get(service.httpPort(), "127.0.0.1", "/eventbus/info")
        .putHeader("Origin", "http://evil.example").send().await();
      assertEquals(403, info.statusCode());
      assertTrue(info.bodyAsJsonObject().getString("error").contains("http.corsOrigin"), info.bodyAsString());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void offMeansNotThere() throws Exception {
    start(Map.of("sockjs.enabled", "false"));
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = WebClient.create(vertx);
      assertEquals(404, client.get(service.httpPort(), "127.0.0.1", "/eventbus/info").send().await().statusCode());
      JsonObject info = client.get(service.httpPort(), "127.0.0.1", "/info").send().await().bodyAsJsonObject();
      assertFalse(info.containsKey("sockjs"), info.encode());
      assertNull(service.sockJs());
      assertNull(service.statsFeed(), "no bridge, no pushes");
    } finally {
      vertx.close().await();
    }
  }
}
