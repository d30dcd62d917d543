package dev.fibservice.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.compute.Admission;
import dev.fibservice.net.Raw;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 framing a request smuggler relies on is refused and the connection closed, so nothing sent behind such a
 * request is ever answered; a request without Host is a 400; and one client cannot cancel another's computation by
 * sending its X-Request-Id.
 */
class HttpWireTest {

  private static FibService service;

  @BeforeAll
  static void startNode() throws Exception {
    service = TestNodes.start(Map.of("fib.timeoutMs", "120000"));
  }

  @AfterAll
  static void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  /** Sends the bytes, reads until the server closes (the client keeps its side open: the server must close). */
  private static List<Raw.HttpReply> exchange(String bytes) throws Exception {
    try (Socket socket = Raw.connect(service.httpPort())) {
      Raw.send(socket, bytes);
      return Raw.httpReplies(Raw.readToEnd(socket));
    }
  }

  private static final String SMUGGLED = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

  @Test
  void contentLengthWithChunkedIsRefusedAndTheSmuggledRequestNeverAnswered() throws Exception {
    List<Raw.HttpReply> replies = exchange("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
      + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED);
    assertEquals(1, replies.size(), "exactly one response, then the connection closes: " + replies);
    Raw.HttpReply reply = replies.get(0);
    assertEquals(400, reply.status());
    assertEquals("close", reply.headers().get("connection"));
    assertTrue(new JsonObject(reply.body()).getString("error").contains("both Content-Length and Transfer-Encoding"),
      reply.body());
  }

  @Test
  void aTransferCodingOtherThanAFinalChunkedIsRefused() throws Exception {
    List<Raw.HttpReply> gzip = exchange("POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + SMUGGLED);
    assertEquals(1, gzip.size(), gzip.toString());
    assertEquals(400, gzip.get(0).status());
    assertTrue(gzip.get(0).body().contains("chunked must be the final transfer coding"), gzip.get(0).body());

    List<Raw.HttpReply> unknown = exchange("POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      + "0\r\n\r\n" + SMUGGLED);
    assertEquals(1, unknown.size(), unknown.toString());
    assertEquals(501, unknown.get(0).status());
    assertTrue(unknown.get(0).body().contains("transfer coding 'gzip' is not supported"), unknown.get(0).body());

    List<Raw.HttpReply> http10 = exchange("POST /jobs HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
      + SMUGGLED);
    assertEquals(1, http10.size(), http10.toString());
    assertEquals(400, http10.get(0).status());
  }

  @Test
  void aRefusalWaitsForTheResponsesOwedBeforeIt() throws Exception {
    List<Raw.HttpReply> replies = exchange("GET /fib/27?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n"
      + "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED);
    assertEquals(2, replies.size(), replies.toString());
    assertEquals(200, replies.get(0).status());
    assertEquals("196418", new JsonObject(replies.get(0).body()).getString("value"));
    assertEquals(400, replies.get(1).status());
  }

  @Test
  void chunkedAloneStillWorks() throws Exception {
    try (Socket socket = Raw.connect(service.httpPort())) {
      Raw.send(socket, "POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      List<Raw.HttpReply> replies = Raw.httpReplies(Raw.readToEnd(socket));
      assertEquals(2, replies.size(), replies.toString());
      assertEquals(405, replies.get(0).status());
      assertEquals(200, replies.get(1).status());
    }
  }

  @Test
  void noHostOrABadOneIsA400AndNoStackTrace() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    root.addAppender(log);
    try {
      for (String path : new String[] {"/fib/10", "/hello", "/info"}) {
        List<Raw.HttpReply> replies = exchange("GET " + path + " HTTP/1.1\r\n\r\n");
        assertEquals(1, replies.size(), replies.toString());
        assertEquals(400, replies.get(0).status(), path);
        assertEquals("application/json", replies.get(0).headers().get("content-type"));
        assertTrue(new JsonObject(replies.get(0).body()).getString("error").contains("Host header"),
          replies.get(0).body());
      }
      for (String host : new String[] {"a b", "[::1", "x:99999"}) {
        List<Raw.HttpReply> replies = exchange("GET /fib/10 HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        assertEquals(400, replies.get(0).status(), host);
        assertTrue(new JsonObject(replies.get(0).body()).getString("error").contains("Host header must be host[:port]"),
          replies.get(0).body());
      }
      // HTTP/1.0 has no Host requirement
      List<Raw.HttpReply> old = exchange("GET /fib/10 HTTP/1.0\r\n\r\n");
      assertEquals(200, old.get(0).status(), old.toString());
    } finally {
      root.detachAppender(log);
    }
    for (ILoggingEvent event : log.list) {
      assertTrue(event.getThrowableProxy() == null && !event.getLevel().isGreaterOrEqual(Level.WARN),
        "logged: " + event.getLevel() + " " + event.getFormattedMessage());
    }
  }

  @Test
  void anotherClientsIdAndHangUpDoNotCancelTheRequest() throws Exception {
    Admission admission = service.node().admission();
    String request = "GET /fib/44?algorithm=recursive HTTP/1.1\r\nHost: x\r\nX-Request-Id: victim\r\n\r\n";
    try (Socket a = Raw.connect(service.httpPort())) {
      Raw.send(a, request);
      awaitInFlight(admission, 1);
      // B sends the same id, and hangs up hard while its computation runs: its own is cancelled, A's is not
      try (Socket b = Raw.connect(service.httpPort())) {
        Raw.send(b, request);
        awaitInFlight(admission, 2);
        Raw.reset(b);
      }
      awaitInFlight(admission, 1);
      a.shutdownOutput();
      List<Raw.HttpReply> replies = Raw.httpReplies(Raw.readToEnd(a));
      assertEquals(200, replies.get(0).status(), replies.get(0).body());
      assertEquals("701408733", new JsonObject(replies.get(0).body()).getString("value"));
      assertEquals("victim", replies.get(0).headers().get("x-request-id"));
    }
  }

  private static void awaitInFlight(Admission admission, int n) throws Exception {
    Eventually.within(Duration.ofSeconds(30), () -> admission.inFlight() == n);
    assertEquals(n, admission.inFlight());
  }
}
