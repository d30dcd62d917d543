package dev.fibservice.bridge;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNode;
import dev.fibservice.api.Addresses;
import dev.fibservice.net.Raw;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What each front end puts on the bus with a computation, seen by an interceptor at the gateway: an
 * {@code x-cancel-id} of 128 random bits (32 hex digits) and a request id that is not it, so that nothing logged
 * under the request's name can cancel it. HTTP, TCP lines, the TCP bridge and the SockJS bridge, without a client id.
 */
class CancelIdsOnTheBusTest {

  @RegisterExtension
  static final TestNode node = TestNode.start(Map.of("bridge.enabled", "true", "bridge.port", "0"));

  /** The (request id, cancel id) of every fib.compute the gateway received. */
  private final List<String[]> seen = new CopyOnWriteArrayList<>();
  private final io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> spy = ctx -> {
    if (Addresses.FIB_COMPUTE.equals(ctx.message().address())) {
      seen.add(new String[] {ctx.message().headers().get(Addresses.REQUEST_ID_HEADER),
        ctx.message().headers().get(Addresses.CANCEL_ID_HEADER)});
    }
    ctx.next();
  };

  private static FibService service() {
    return node.service();
  }

  @BeforeEach
  void listen() {
    service().vertx().eventBus().addInboundInterceptor(spy);
  }

  @AfterEach
  void stopListening() {
    service().vertx().eventBus().removeInboundInterceptor(spy);
  }

  @Test
  void http() throws Exception {
    assertEquals(200, node.client().get("/fib/100").send().await().statusCode());
    assertOneCapability("HTTP");
  }

  @Test
  void tcpLines() throws Exception {
    try (Socket s = Raw.connect(service().tcpPort())) {
      s.setSoTimeout(30_000);
      // not doubling with n <= 92, which the line protocol answers from its table: this one goes to the gateway
      Raw.send(s, "100 iterative\n");
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertEquals("354224848179261915075", line);
    }
    assertOneCapability("a TCP line");
  }

  @Test
  void theTcpBridge() throws Exception {
    try (Socket s = Raw.connect(service().bridgePort())) {
      s.setSoTimeout(30_000);
      Raw.sendFrame(s, new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", "r1")
        .put("body", new JsonObject().put("n", 100)));
      assertEquals("message", Raw.readFrame(new DataInputStream(s.getInputStream())).getString("type"));
    }
    assertOneCapability("the TCP bridge");
  }

  @Test
  void theSockJsBridge() throws Exception {
    try (RawSocket ws = RawSocket.open(service().httpPort(), null)) {
      ws.send("fib.compute", "r1", new JsonObject().put("n", 100));
      assertEquals("rec", ws.next().getString("type"));
    }
    assertOneCapability("the SockJS bridge");
  }

  private void assertOneCapability(String front) throws Exception {
    Eventually.within(Duration.ofSeconds(5), () -> !seen.isEmpty());
    assertEquals(1, seen.size(), front);
    String requestId = seen.get(0)[0];
    String cancelId = seen.get(0)[1];
    assertTrue(cancelId != null && cancelId.matches("[0-9a-f]{32}"), front + ": cancel id " + cancelId);
    assertTrue(requestId != null && !requestId.isEmpty(), front + ": no request id");
    assertNotEquals(cancelId, requestId, front + ": the request id, which the logs show, is the cancel id");
  }
}
