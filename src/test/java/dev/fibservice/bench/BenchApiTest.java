package dev.fibservice.bench;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The programmatic API used by benchmark harnesses, and the option parsing helpers. */
class BenchApiTest {

  private static TestServers servers;

  @BeforeAll
  static void startServers() throws Exception {
    servers = new TestServers().start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    servers.close();
  }

  @Test
  void runReturnsTheSameNumbersAsTheJsonReport() {
    servers.resetCounters();
    BenchResult r = Bench.run(new BenchOptions().target(servers.url("/hello")).requests(300).concurrency(6));
    assertEquals(300, r.requests());
    assertEquals(300, r.completed());
    assertEquals(Map.of(), r.errors());
    assertFalse(r.allFailed());
    assertEquals(300, servers.httpRequests.get());
    assertEquals(300, r.histogram().getTotalCount());
    JsonObject json = r.toJson();
    assertEquals(r.completed(), json.getLong("completed"));
    assertEquals(r.latency().p99(), json.getJsonObject("latencyMicros").getLong("p99"));
    assertEquals(r.latency().max(), json.getJsonObject("latencyMicros").getLong("max"));
    assertTrue(r.toText().contains("Completed:       300"), r.toText());
  }

  @Test
  void tcpThroughTheApi() {
    servers.resetCounters();
    BenchResult r = Bench.run(new BenchOptions().target("tcp://localhost:" + servers.tcpPort()).line("hello")
      .connections(1).pipeline(3).requests(10));
    assertEquals(10, r.requests());
    // one connection: lines 5 and 10 are [Error] replies
    assertEquals(Map.of("reply", 2L), r.errors());
    assertEquals(8, r.completed());
    assertTrue(servers.tcpMaxPending.get() <= 3);
  }

  @Test
  void tcpConnectionsTheServerDropsWithLinesInFlightAreReplaced() throws Exception {
    // answers three lines per connection, then closes it with the rest of its pipeline unanswered
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      AtomicInteger connections = new AtomicInteger();
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            Socket s = server.accept();
            connections.incrementAndGet();
            // a thread each: a connection waiting for its next line must not hold up the others
            Thread t = new Thread(() -> answerThreeLines(s), "dropping-line-conn");
            t.setDaemon(true);
            t.start();
          } catch (IOException e) {
            return;   // the server is closed
          }
        }
      }, "dropping-line-server");
      acceptor.setDaemon(true);
      acceptor.start();
      BenchResult r = Bench.run(new BenchOptions().target("tcp://127.0.0.1:" + server.getLocalPort()).line("x")
        .connections(3).pipeline(4).requests(300).timeout(Duration.ofSeconds(5)).maxDuration(Duration.ofSeconds(30)));
      assertFalse(r.cutOff(), "every request was answered or failed: " + r);
      assertEquals(300, r.requests());
      long dropped = r.errors().getOrDefault("read/reset", 0L);
      assertEquals(r.errorCount(), dropped, "only the dropped lines failed: " + r.errors());
      assertEquals(300, r.completed() + dropped, r.toString());
      assertTrue(connections.get() > 1, "the dropped connections were replaced: " + connections.get());
    }
  }

  private static void answerThreeLines(Socket socket) {
    try (Socket s = socket) {
      s.setSoTimeout(10_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = s.getOutputStream();
      for (int i = 0; i < 3 && in.readLine() != null; i++) {
        out.write("ok\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      // the tool went away
    }
  }

  @Test
  void refusalIsAnExceptionWithExitCodeTwo() {
    BenchUsageException e = assertThrows(BenchUsageException.class,
      () -> Bench.run(new BenchOptions().target("http://10.1.2.3:80/").requests(1)));
    assertEquals(2, e.exitCode());
    BenchUsageException bad = assertThrows(BenchUsageException.class,
      () -> Bench.run(new BenchOptions().target(servers.url("/hello")).concurrency(0)));
    assertTrue(bad.getMessage().contains("--concurrency"), bad.getMessage());
    assertTrue(bad.getMessage().contains("1 to 100000"), bad.getMessage());
  }

  @Test
  void loopbackCheck() throws Exception {
    assertTrue(Bench.resolveAndCheck("127.0.0.1", false).isLoopbackAddress());
    assertTrue(Bench.resolveAndCheck("127.1.2.3", false).isLoopbackAddress());
    assertTrue(Bench.resolveAndCheck("::1", false).isLoopbackAddress());
    assertTrue(Bench.resolveAndCheck("localhost", false).isLoopbackAddress());
    for (String remote : new String[]{"10.1.2.3", "0.0.0.0", "192.168.0.1", "::", "fe80::1", "8.8.8.8"}) {
      assertThrows(BenchUsageException.class, () -> Bench.resolveAndCheck(remote, false), remote);
    }
    // allowed explicitly: resolution only, no connection
    assertEquals(InetAddress.getByName("10.1.2.3"), Bench.resolveAndCheck("10.1.2.3", true));
  }

  @Test
  void durations() {
    assertEquals(Duration.ofSeconds(10), BenchOptions.parseDuration("-d", "10s"));
    assertEquals(Duration.ofMillis(500), BenchOptions.parseDuration("-d", "500ms"));
    assertEquals(Duration.ofMinutes(1), BenchOptions.parseDuration("-d", "1m"));
    assertEquals(Duration.ofSeconds(90), BenchOptions.parseDuration("-d", "1m30s"));
    assertEquals(Duration.ofMillis(1500), BenchOptions.parseDuration("-d", "1.5s"));
    assertEquals(Duration.ofSeconds(3), BenchOptions.parseDuration("-d", "3"));
    assertEquals(Duration.ofHours(2), BenchOptions.parseDuration("-d", "2h"));
    for (String bad : new String[]{"", "s", "10x", "-1s", "1s2", "ms", "1 s"}) {
      assertThrows(BenchUsageException.class, () -> BenchOptions.parseDuration("-d", bad), bad);
    }
  }

  @Test
  void targets() {
    BenchOptions.Target t = BenchOptions.parseTarget("http://127.0.0.1:8080/fib/30?x=1&y=%20");
    assertEquals("127.0.0.1", t.host());
    assertEquals(8080, t.port());
    assertEquals("/fib/30?x=1&y=%20", t.requestUri());
    assertEquals("/", BenchOptions.parseTarget("http://localhost").requestUri());
    assertEquals(80, BenchOptions.parseTarget("http://localhost").port());
    BenchOptions.Target v6 = BenchOptions.parseTarget("http://[::1]:81/a");
    assertEquals("::1", v6.host());
    assertEquals("[::1]", v6.authorityHost());
    assertTrue(BenchOptions.parseTarget("tcp://127.0.0.1:9000").tcp());
    assertThrows(BenchUsageException.class, () -> BenchOptions.parseTarget("tcp://127.0.0.1:9000/path"));
    assertThrows(BenchUsageException.class, () -> BenchOptions.parseTarget("http://user@127.0.0.1/"));
  }
}
