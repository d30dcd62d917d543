package dev.fibservice.tcp;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.compute.Admission;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP line protocol over real sockets. */
class TcpProtocolTest {

  private static FibService service;
  private static final AtomicInteger computeRequests = new AtomicInteger();

  @BeforeAll
  static void startNode() throws Exception {
    service = TestNodes.start(Map.of());
    service.vertx().eventBus().addOutboundInterceptor((DeliveryContext<Object> ctx) -> {
      if ("fib.compute".equals(ctx.message().address())) {
        computeRequests.incrementAndGet();
      }
      ctx.next();
    });
  }

  @AfterAll
  static void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  private static final class Client implements AutoCloseable {
    final Socket socket;
    final BufferedReader in;
    final OutputStream out;

    Client() throws Exception {
      socket = new Socket();
      // a fixed, small receive buffer: without it the kernel alone may buffer tens of MB on loopback
      socket.setReceiveBufferSize(16 * 1024);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", service.tcpPort()));
      socket.setSoTimeout(30_000);
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      out = socket.getOutputStream();
    }

    void send(String text) throws Exception {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    String line() throws Exception {
      return in.readLine();
    }

    @Override
    public void close() throws Exception {
      socket.close();
    }
  }

  @Test
  void answersLines() throws Exception {
    try (Client c = new Client()) {
      c.send("30\n");
      assertEquals("832040", c.line());
      c.send("93\r\n");
      assertEquals("12200160415121876738", c.line());
      c.send("25 recursive\n");
      assertEquals("75025", c.line());
      c.send("  0  \n");
      assertEquals("0", c.line());
    }
  }

  /** A table lookup costs less than the hop: small n with the default algorithm never crosses the event bus. */
  @Test
  void smallLinesAreAnsweredOnTheEventLoopRecursiveOnesByAWorker() throws Exception {
    try (Client c = new Client()) {
      int before = computeRequests.get();
      for (int n = 0; n <= Fibonacci.MAX_LONG_N; n++) {
        c.send(n + (n % 2 == 0 ? "\n" : " doubling\n"));
        assertEquals(Fibonacci.compute(Algorithm.DOUBLING, n, () -> false).toString(), c.line(), "line " + n);
      }
      assertEquals(before, computeRequests.get(), "no line went over the event bus");
      c.send("20 recursive\n");
      assertEquals("6765", c.line());
      c.send("5 iterative\n");
      assertEquals("5", c.line());
      c.send("93\n");
      assertEquals("12200160415121876738", c.line());
      assertEquals(before + 3, computeRequests.get(), "recursive, iterative and n > 92 go to the workers");
    }
  }

  @Test
  void pipelinedLinesAreAnsweredInOrder() throws Exception {
    try (Client c = new Client()) {
      // a slow line first: the quick ones after it must wait for it, in order
      StringBuilder batch = new StringBuilder("32 recursive\n");
      for (int n = 0; n < 200; n++) {
        batch.append(n).append(n % 3 == 0 ? " iterative\n" : "\n");
      }
      c.send(batch.toString());
      assertEquals("2178309", c.line());
      for (int n = 0; n < 200; n++) {
        assertEquals(Fibonacci.compute(Algorithm.DOUBLING, n, () -> false).toString(), c.line(), "line " + n);
      }
    }
  }

  @Test
  void badLinesGetAnErrorAndTheConnectionStays() throws Exception {
    try (Client c = new Client()) {
      c.send("abc\n-4\n46 recursive\n5 magic\n1 2 3\n10\n");
      assertEquals("[Error] n must be a whole number, got 'abc'", c.line());
      assertEquals("[Error] n must not be negative, got -4", c.line());
      assertEquals("[Error] n = 46 is above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)", c.line());
      assertEquals("[Error] unknown algorithm 'magic'; expected one of doubling, iterative, recursive", c.line());
      assertEquals("[Error] expected 'n' or 'n algorithm', got 3 words", c.line());
      assertEquals("55", c.line());
    }
  }

  @Test
  void longLineGetsAnErrorThenClose() throws Exception {
    try (Client c = new Client()) {
      c.send("7\n" + "1".repeat(65) + "\n8\n");
      assertEquals("13", c.line());
      assertEquals("[Error] line too long: at most 64 bytes (tcp.maxLineBytes)", c.line());
      assertNull(c.line(), "closed after the error");
    }
    try (Client c = new Client()) {
      // a line that never ends is refused as soon as it is too long
      c.send("9".repeat(200));
      assertEquals("[Error] line too long: at most 64 bytes (tcp.maxLineBytes)", c.line());
      assertNull(c.line());
    }
  }

  @Test
  void exactly64BytesIsAccepted() throws Exception {
    try (Client c = new Client()) {
      c.send("0".repeat(62) + "12\n");
      assertEquals("144", c.line());
    }
  }

  @Test
  void emptyLineAndQuitClosePolitelyAfterPendingReplies() throws Exception {
    try (Client c = new Client()) {
      c.send("30 recursive\n\n31\n");
      assertEquals("832040", c.line());
      assertNull(c.line());
    }
    try (Client c = new Client()) {
      c.send("12\nquit\n");
      assertEquals("144", c.line());
      assertNull(c.line());
    }
  }

  @Test
  void idleConnectionsAreClosed() throws Exception {
    FibService idle = TestNodes.start(Map.of("tcp.idleTimeoutSeconds", "1"));
    try (Socket socket = new Socket("127.0.0.1", idle.tcpPort())) {
      socket.setSoTimeout(30_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      socket.getOutputStream().write("5\n".getBytes(StandardCharsets.US_ASCII));
      assertEquals("5", in.readLine());
      assertNull(in.readLine(), "the server closes after tcp.idleTimeoutSeconds");
    } finally {
      TestNodes.stop(idle);
    }
  }

  @Test
  void aClientThatDoesNotReadIsNotFedWithoutBound() throws Exception {
    int lines = 3000;
    String expected = Fibonacci.compute(Algorithm.DOUBLING, 100_000, () -> false).toString();
    try (Client c = new Client()) {
      int before = computeRequests.get();
      // 3000 replies of 20,899 digits (63 MB): far more than socket buffers hold
      c.send("100000\n".repeat(lines));
      // wait until the server has finished all it took on and is idle, held back by the unread replies
      Admission admission = service.node().admission();
      int[] seen = {-1};
      Eventually.within(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
        int now = computeRequests.get() - before;
        boolean settled = now == seen[0] && now > 0 && admission.inFlight() == 0;
        seen[0] = now;
        return settled;
      });
      int started = computeRequests.get() - before;
      System.out.println("lines computed for a client that reads nothing: " + started + " of " + lines);
      assertTrue(started < lines / 2, "the server kept computing for a client that reads nothing: " + started);
      for (int i = 0; i < lines; i++) {
        String reply = c.line();
        assertTrue(expected.equals(reply), "reply " + i + " differs: " + (reply == null ? "connection closed"
          : reply.length() + " characters"));
      }
      assertEquals(lines, computeRequests.get() - before);
    }
  }
}
