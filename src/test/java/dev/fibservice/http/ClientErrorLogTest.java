package dev.fibservice.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.DbTestNodes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client's mistakes cost the log nothing (a DEBUG line at most), however many: each malformed request still gets
 * its 400 in words. The log is captured in-process, from the root logger, while 100 of each are sent.
 */
class ClientErrorLogTest {

  private static FibService service;
  private ListAppender<ILoggingEvent> captured;

  @BeforeAll
  static void startNode() throws Exception {
    service = DbTestNodes.start("client_errors", Map.of());
  }

  @AfterAll
  static void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  @BeforeEach
  void capture() {
    captured = new ListAppender<>();
    captured.start();
    root().addAppender(captured);
  }

  @AfterEach
  void release() {
    root().detachAppender(captured);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private void assertLogQuiet(String what) {
    List<ILoggingEvent> events = List.copyOf(captured.list);
    long withTrace = events.stream().filter(e -> e.getThrowableProxy() != null).count();
    assertEquals(0, withTrace, what + ": no stack trace for a client's mistake; got " + events.stream()
      .map(ILoggingEvent::getFormattedMessage).toList());
    assertTrue(events.size() <= 3, what + ": at most a few lines for 100 bad requests, got " + events.size() + ": "
      + events.stream().limit(5).map(ILoggingEvent::getFormattedMessage).toList());
    events.forEach(e -> assertTrue(e.getFormattedMessage().length() < 300, "a short line: " + e.getFormattedMessage()));
  }

  @Test
  void badPercentEncodingInThePath() throws Exception {
    for (int i = 0; i < 100; i++) {
      String answer = exchange("GET /fib/%zz" + i + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
      assertTrue(error(answer).contains("is not valid percent-encoding"), answer);
    }
    assertLogQuiet("%zz in the path");
  }

  @Test
  void badChunkSizes() throws Exception {
    for (int i = 0; i < 100; i++) {
      // on a route that reads the body, and on one that has answered 405 before the body breaks
      String path = i % 2 == 0 ? "/people" : "/fib/30";
      String answer = exchange("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
      if (path.equals("/people")) {
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertTrue(error(answer).contains("the request could not be read: Invalid character in chunk size"), answer);
      } else {
        assertTrue(answer.startsWith("HTTP/1.1 405"), answer);
      }
    }
    assertLogQuiet("bad chunk sizes");
  }

  @Test
  void malformedHeadsAndOversizedOnes() throws Exception {
    for (int i = 0; i < 100; i++) {
      String request = switch (i % 3) {
        case 0 -> "GET /hello HTTP/1.1 junk\r\nHost: x\r\n\r\n";
        case 1 -> "GET /hello?" + "x".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        default -> "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(9000) + "\r\n\r\n";
      };
      String answer = exchange(request);
      String status = switch (i % 3) {
        case 0 -> " 400 ";
        case 1 -> " 414 ";
        default -> " 431 ";
      };
      assertTrue(answer.startsWith("HTTP/1.") && answer.substring(0, 14).contains(status), answer);
      assertTrue(error(answer).length() > 20, answer);
    }
    assertLogQuiet("malformed request heads");
  }

  @Test
  void clientsThatHangUpMidBody() throws Exception {
    for (int i = 0; i < 100; i++) {
      try (Socket s = open()) {
        s.getOutputStream().write(("POST /people HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 1000\r\n\r\n{\"name\":").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        s.setSoLinger(true, 0);
      }
    }
    // the server has seen them all go once a later request on a new connection is answered
    assertTrue(exchange("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200"));
    Thread.sleep(500);
    assertLogQuiet("clients that hang up mid-body");
  }

  private static String error(String answer) {
    return new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4)).getString("error");
  }

  private Socket open() throws Exception {
    Socket s = new Socket("127.0.0.1", service.httpPort());
    s.setSoTimeout(20_000);
    return s;
  }

  /** Sends raw bytes and reads until the server closes the connection. */
  private String exchange(String request) throws Exception {
    try (Socket s = open()) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        all.write(buf, 0, n);
      }
      return all.toString(StandardCharsets.US_ASCII);
    }
  }
}
