package dev.fibservice.net;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.compute.Admission;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.File;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client that half-closes (shutdown(SHUT_WR) right after its last byte, as Debian's netcat does) still gets every
 * reply, in order, and then sees the server close, on all three servers; a client that resets the connection gets its
 * pending computations cancelled.
 */
class HalfCloseTest {

  private static FibService service;

  @BeforeAll
  static void startNode() throws Exception {
    // recursive fib(60) runs for hours and the deadline is far: only a cancellation ends it
    service = TestNodes.start(Map.of("bridge.enabled", "true", "bridge.port", "0", "fib.maxN.recursive", "60",
      "fib.timeoutMs", "600000"));
  }

  @AfterAll
  static void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  private static String halfClosed(int port, String request) throws Exception {
    try (Socket socket = Raw.connect(port)) {
      Raw.send(socket, request);
      socket.shutdownOutput();
      return new String(Raw.readToEnd(socket), StandardCharsets.UTF_8);
    }
  }

  @Test
  void tcpAnswersTheReadmeLinesThenCloses() throws Exception {
    assertEquals("55\n12200160415121876738\n6765\n", halfClosed(service.tcpPort(), "10\n93\n20 recursive\n"));
  }

  @Test
  void tcpTakesALastLineWithoutItsNewline() throws Exception {
    assertEquals("55\n13\n", halfClosed(service.tcpPort(), "10\n7"));
  }

  @Test
  void tcpAnswersInOrderWhenTheFirstLineIsSlow() throws Exception {
    StringBuilder lines = new StringBuilder("30 recursive\n");
    StringBuilder expected = new StringBuilder("832040\n");
    // more lines than tcp.maxPipelined (32): the rest waits in the server's buffers behind the FIN
    for (int i = 0; i < 100; i++) {
      lines.append("10\n");
      expected.append("55\n");
    }
    assertEquals(expected.toString(), halfClosed(service.tcpPort(), lines.toString()));
  }

  @Test
  void theReadmeNetcatLineWorksAsPrinted() throws Exception {
    assumeTrue(onPath("nc"), "nc is not installed (make test-tools, or apt-get install netcat-openbsd): the README's"
      + " nc example is not run");
    Process nc = new ProcessBuilder("sh", "-c", "printf '10\\n93\\n20 recursive\\n' | nc -q1 127.0.0.1 "
      + service.tcpPort()).redirectErrorStream(true).start();
    assertTrue(nc.waitFor(60, TimeUnit.SECONDS), "nc did not end");
    assertEquals("55\n12200160415121876738\n6765\n", new String(nc.getInputStream().readAllBytes(),
      StandardCharsets.UTF_8));
  }

  @Test
  void bridgeAnswersAFrameThenCloses() throws Exception {
    try (Socket socket = Raw.connect(service.bridgePort())) {
      Raw.sendFrame(socket, Raw.compute("r1", "half", new JsonObject().put("n", 30)));
      Raw.sendFrame(socket, new JsonObject().put("type", "ping"));
      socket.shutdownOutput();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      JsonObject first = Raw.readFrame(in);
      JsonObject second = Raw.readFrame(in);
      JsonObject reply = "message".equals(first.getString("type")) ? first : second;
      assertEquals("r1", reply.getString("address"), reply.encode());
      assertEquals("832040", reply.getJsonObject("body").getString("value"));
      assertEquals("pong", (reply == first ? second : first).getString("type"));
      assertNull(Raw.readFrame(in), "the server closes once the reply is out");
    }
  }

  @Test
  void httpAnswersTheRequestThenCloses() throws Exception {
    List<Raw.HttpReply> replies = Raw.httpReplies(halfClosed(service.httpPort(),
      "GET /fib/30 HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    assertEquals(1, replies.size());
    assertEquals(200, replies.get(0).status());
    assertEquals("832040", new JsonObject(replies.get(0).body()).getString("value"));
  }

  @Test
  void httpAnswersPipelinedRequestsInOrderThenCloses() throws Exception {
    String request = "GET /fib/27?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n"
      + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      + "GET /fib/20 HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n"
      + "GET /hello?repeat=5000 HTTP/1.1\r\nHost: x\r\n\r\n"
      + "GET /fib/10 HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n";
    List<Raw.HttpReply> replies = Raw.httpReplies(halfClosed(service.httpPort(), request)
      .getBytes(StandardCharsets.ISO_8859_1));
    assertEquals(5, replies.size());
    replies.forEach(r -> assertEquals(200, r.status(), r.body()));
    assertEquals("196418", new JsonObject(replies.get(0).body()).getString("value"));
    assertTrue(replies.get(1).body().contains("Hello, World!"));
    assertEquals("6765\n", replies.get(2).body());
    // a page of 64 KiB or more leaves with sendfile: it ends the connection as well as any other
    assertEquals(5000, replies.get(3).body().split("<h1>", -1).length - 1);
    assertEquals("55\n", replies.get(4).body());
  }

  @Test
  void httpHalfCloseOfAnIdleConnectionClosesIt() throws Exception {
    try (Socket socket = Raw.connect(service.httpPort())) {
      Raw.send(socket, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
      byte[] head = new byte[12];
      new DataInputStream(socket.getInputStream()).readFully(head);
      assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.ISO_8859_1));
      socket.shutdownOutput();
      Raw.readToEnd(socket); // returns at the server's close (or fails after 30 s)
    }
  }

  @Test
  void aResetCancelsPendingWorkOnEveryServer() throws Exception {
    awaitInFlight(0);
    try (Socket socket = Raw.connect(service.tcpPort())) {
      Raw.send(socket, "60 recursive\n60 recursive\n");
      awaitInFlight(2);
      Raw.reset(socket);
    }
    awaitInFlight(0);
    try (Socket socket = Raw.connect(service.bridgePort())) {
      Raw.sendFrame(socket, Raw.compute("r", "x", new JsonObject().put("n", 60).put("algorithm", "recursive")));
      awaitInFlight(1);
      Raw.reset(socket);
    }
    awaitInFlight(0);
    try (Socket socket = Raw.connect(service.httpPort())) {
      Raw.send(socket, "GET /fib/60?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n");
      awaitInFlight(1);
      Raw.reset(socket);
    }
    awaitInFlight(0);
  }

  /** Waits (bounded) until exactly {@code n} computations are queued or running on the node. */
  private static void awaitInFlight(int n) throws Exception {
    Admission admission = service.node().admission();
    Eventually.within(Duration.ofSeconds(30), () -> admission.inFlight() == n);
    assertEquals(n, admission.inFlight(), n == 0 ? "computations still running: the reset did not cancel them"
      : "computations not admitted");
  }

  static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, tool).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
