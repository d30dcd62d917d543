package dev.fibservice.bench;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code bench} command end to end against real loopback sockets. */
class BenchCommandTest {

  private static TestServers servers;

  @BeforeAll
  static void startServers() throws Exception {
    servers = new TestServers().start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    servers.close();
  }

  @BeforeEach
  void reset() {
    servers.resetCounters();
  }

  record Cli(int exit, String out, String err) {
    JsonObject json() {
      return new JsonObject(out);
    }
  }

  static Cli bench(String... args) {
    return bench(true, args);
  }

  /** Like the service mounts it: {@code setExpandAtFiles(false)} so that {@code --body @file} reaches the command. */
  static Cli bench(boolean asMounted, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = BenchCommand.commandLine();
    if (!asMounted) {
      cmd.setExpandAtFiles(true);
    }
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    return new Cli(exit, out.toString(), err.toString());
  }

  static Cli benchJson(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--json");
    Cli cli = bench(all.toArray(String[]::new));
    assertTrue(cli.out().trim().startsWith("{") && cli.out().trim().endsWith("}"),
      "stdout must be exactly one JSON object: " + cli.out() + "\nstderr: " + cli.err());
    return cli;
  }

  @Test
  void fiveHundredRequestsAtConcurrencyTen() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "500", "-c", "10");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(500, r.getLong("requests"));
    assertEquals(500, r.getLong("completed"));
    assertEquals(new JsonObject(), r.getJsonObject("errors"));
    assertEquals(500, servers.httpRequests.get(), "requests seen by the server");
    assertTrue(servers.maxInFlight.get() <= 10, "server saw " + servers.maxInFlight.get() + " concurrent requests");
    assertTrue(servers.maxInFlight.get() >= 1);
    assertTrue(servers.httpConnections.get() <= 10, "connections: " + servers.httpConnections.get());
    assertTrue(r.getJsonObject("latencyMicros").getLong("max") > 0);
  }

  @Test
  void concurrencyIsCappedByTheToolNotOnlyByThePool() {
    // more connections than concurrency: only the tool's own cap keeps the server below 10
    Cli cli = benchJson(servers.url("/hello"), "-n", "500", "-c", "10", "--connections", "40");
    assertEquals(0, cli.exit(), cli.err());
    assertEquals(500, cli.json().getLong("completed"));
    assertEquals(500, servers.httpRequests.get());
    assertTrue(servers.maxInFlight.get() <= 10, "server saw " + servers.maxInFlight.get() + " concurrent requests");

    Cli rate = benchJson(servers.url("/hello"), "--rate", "100000", "-n", "300", "-c", "6", "--connections", "30");
    assertEquals(0, rate.exit(), rate.err());
    assertTrue(servers.maxInFlight.get() <= 10, "server saw " + servers.maxInFlight.get() + " concurrent requests");
  }

  @Test
  void concurrencyCapHoldsWithFewerConnectionsAndMoreThreads() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "300", "-c", "3", "--connections", "2", "--threads", "4");
    assertEquals(0, cli.exit(), cli.err());
    assertEquals(300, cli.json().getLong("completed"));
    assertEquals(300, servers.httpRequests.get());
    assertTrue(servers.maxInFlight.get() <= 2, "only 2 connections, saw " + servers.maxInFlight.get());
    assertTrue(servers.httpConnections.get() <= 2, "connections: " + servers.httpConnections.get());
  }

  @Test
  void httpPipeliningIsOptIn() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "400", "-c", "16", "--pipeline", "8");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(400, r.getLong("completed"));
    assertEquals(2, r.getInteger("connections"), "16 in flight over connections of depth 8");
    assertEquals(400, servers.httpRequests.get());
    assertTrue(servers.httpConnections.get() <= 2, "connections: " + servers.httpConnections.get());
    assertTrue(servers.maxInFlight.get() <= 16);
  }

  @Test
  void noKeepAliveOpensOneConnectionPerRequest() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "200", "-c", "4", "--no-keepalive");
    assertEquals(0, cli.exit(), cli.err());
    assertEquals(200, cli.json().getLong("completed"));
    assertEquals(200, servers.httpRequests.get());
    assertEquals(200, servers.httpConnections.get(), "one connection per request");
    assertEquals(200, servers.connectionCloseHeaders.get(), "Connection: close on every request");
  }

  @Test
  void keepAliveReusesConnections() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "200", "-c", "4");
    assertEquals(0, cli.exit(), cli.err());
    assertTrue(servers.httpConnections.get() <= 4, "connections: " + servers.httpConnections.get());
    assertEquals(0, servers.connectionCloseHeaders.get());
  }

  @Test
  void status500IsCountedByStatusAndAllFailedExitsOne() {
    Cli cli = benchJson(servers.url("/fail"), "-n", "50", "-c", "5");
    assertEquals(1, cli.exit(), "every request failed");
    JsonObject r = cli.json();
    assertEquals(50, r.getLong("requests"));
    assertEquals(0, r.getLong("completed"));
    assertEquals(new JsonObject().put("status 500", 50L), r.getJsonObject("errors"));
    // error responses still have a latency
    assertTrue(r.getJsonObject("latencyMicros").getLong("max") > 0);
  }

  @Test
  void someErrorsStillExitZero() {
    Cli cli = bench(servers.url("/flaky"), "-n", "100", "-c", "1");
    assertEquals(0, cli.exit(), cli.err());
    assertTrue(cli.out().matches("(?s).*Completed: +50\\R.*"), cli.out());
    assertTrue(cli.out().matches("(?s).*status 500: +50\\R.*"), cli.out());
    assertTrue(cli.out().contains("Requests/sec:"), cli.out());
    assertTrue(cli.out().contains("p99.9:"), cli.out());
  }

  @Test
  void closedPortGivesConnectErrors() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Cli cli = benchJson("http://127.0.0.1:" + port + "/", "-n", "20", "-c", "2");
    assertEquals(1, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(20, r.getLong("requests"));
    assertEquals(new JsonObject().put("connect", 20L), r.getJsonObject("errors"));

    Cli tcp = benchJson("tcp://127.0.0.1:" + port, "--line", "x", "-n", "10", "--connections", "2");
    assertEquals(1, tcp.exit(), tcp.err());
    assertEquals(new JsonObject().put("connect", 10L), tcp.json().getJsonObject("errors"));
  }

  @Test
  void timeoutIsAnErrorKind() {
    Cli cli = benchJson(servers.url("/hang"), "-n", "4", "-c", "2", "--timeout", "200ms");
    assertEquals(1, cli.exit(), cli.err());
    assertEquals(new JsonObject().put("timeout", 4L), cli.json().getJsonObject("errors"));
  }

  @Test
  void timedOutRequestsDoNotDisturbTheirSuccessors() {
    Cli cli = benchJson(servers.url("/hang-first"), "-n", "40", "-c", "2", "--timeout", "300ms");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(40, r.getLong("requests"));
    assertEquals(new JsonObject().put("timeout", 2L), r.getJsonObject("errors"));
    assertEquals(38, r.getLong("completed"));
    assertEquals(40, servers.httpRequests.get());
  }

  @Test
  void maxDurationCutsOffARunThatWouldNotEnd() {
    Cli cli = benchJson(servers.url("/hang"), "-n", "10", "-c", "2", "--timeout", "1h", "--max-duration", "500ms");
    assertEquals(1, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertTrue(r.getBoolean("cutOff"));
    assertEquals(new JsonObject().put("aborted", 2L), r.getJsonObject("errors"));
    assertEquals(2, r.getLong("requests"));
  }

  @Test
  void nonLoopbackTargetIsRefusedBeforeAnyConnection() {
    for (String target : List.of("http://10.1.2.3:8080/", "tcp://10.1.2.3:9000", "http://0.0.0.0:8080/")) {
      List<String> args = new ArrayList<>(List.of(target, "-n", "5"));
      if (target.startsWith("tcp")) {
        args.addAll(List.of("--line", "1"));
      }
      Cli cli = bench(args.toArray(String[]::new));
      assertEquals(2, cli.exit(), target);
      assertTrue(cli.err().contains("refusing to load non-loopback target"), cli.err());
      assertTrue(cli.err().contains("--allow-remote"), cli.err());
      assertEquals("", cli.out());
      assertEquals(1, cli.err().strip().lines().count(), cli.err());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "-c 0", "-c -3", "-c abc", "-n 0", "-n -1", "-n x", "-d 10x", "-d 0s", "-d 1m -n 5", "--timeout 0ms",
    "--connections 0", "--rate 0", "--rate fast", "--warmup 1y", "--max-duration 25h", "--threads 0",
    "-H NoColon", "-H 'Bad Name: x'", "--pipeline 0", "--line 30", "--no-keepalive --pipeline 2", "--body @/nonexistent/body.json",
    "-m 'GE T'", "-d 20m"})
  void badValuesExitTwoWithOneLine(String flags) {
    List<String> args = new ArrayList<>();
    args.add(servers.url("/hello"));
    args.addAll(splitArgs(flags));
    Cli cli = bench(args.toArray(String[]::new));
    assertEquals(2, cli.exit(), flags + " -> " + cli.err());
    assertEquals(1, cli.err().strip().lines().count(), "one line: " + cli.err());
    assertTrue(cli.err().startsWith("bench: "), cli.err());
    assertEquals(0, servers.httpRequests.get(), "nothing was sent");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://127.0.0.1/x", "https://127.0.0.1/", "http://", "not a url", "127.0.0.1:80",
    "tcp://127.0.0.1", "http://127.0.0.1:99999/"})
  void badTargetsExitTwo(String target) {
    Cli cli = bench(target, "-n", "1");
    assertEquals(2, cli.exit(), target + " -> " + cli.err());
    assertEquals(1, cli.err().strip().lines().count(), "one line: " + cli.err());
  }

  @Test
  void tcpWithoutLineAndUnknownOptionExitTwo() {
    assertEquals(2, bench("tcp://127.0.0.1:" + servers.tcpPort(), "-n", "1").exit());
    assertEquals(2, bench(servers.url("/hello"), "--frobnicate").exit());
    assertEquals(2, bench().exit());
  }

  @Test
  void jsonHasTheReportKeys() {
    Cli cli = benchJson(servers.url("/hello"), "-n", "100", "-c", "4");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    for (String key : List.of("requests", "completed", "errors", "durationSeconds", "requestsPerSecond",
      "bytesPerSecond", "latencyMicros")) {
      assertTrue(r.containsKey(key), "missing " + key + " in " + r.encode());
    }
    JsonObject l = r.getJsonObject("latencyMicros");
    for (String key : List.of("min", "p50", "p90", "p99", "p999", "max", "mean")) {
      assertNotNull(l.getValue(key), "latencyMicros." + key);
    }
    assertTrue(l.getLong("min") <= l.getLong("p50") && l.getLong("p50") <= l.getLong("p99")
      && l.getLong("p99") <= l.getLong("max"), l.encode());
    assertTrue(r.getDouble("requestsPerSecond") > 0);
    assertTrue(r.getDouble("bytesPerSecond") > 0);
    assertNull(r.getValue("latencyMicrosUncorrected"), "only for --rate");
  }

  @Test
  void fixedRateReportsCorrectedAndUncorrectedLatency() {
    Cli cli = benchJson(servers.url("/hello"), "--rate", "2000", "-n", "400", "-c", "8");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(400, r.getLong("completed"));
    assertEquals(400, servers.httpRequests.get());
    assertTrue(servers.maxInFlight.get() <= 8);
    JsonObject corrected = r.getJsonObject("latencyMicros");
    JsonObject uncorrected = r.getJsonObject("latencyMicrosUncorrected");
    assertNotNull(uncorrected);
    // every sample measured from the intended time is >= the same sample measured from the actual send time
    assertTrue(corrected.getLong("max") >= uncorrected.getLong("max"), r.encode());
    assertTrue(corrected.getLong("min") >= uncorrected.getLong("min"), r.encode());
  }

  @Test
  void fixedRateForADuration() {
    Cli cli = benchJson(servers.url("/hello"), "--rate", "200", "-d", "500ms", "-c", "4");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    // 200 req/s for 0.5 s: exactly 100 intended send times
    assertEquals(100, r.getLong("requests"));
    assertEquals(100, servers.httpRequests.get());
  }

  @Test
  void durationStopsByItself() {
    Cli cli = benchJson(servers.url("/hello"), "-d", "1s", "-c", "4");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertFalse(r.getBoolean("cutOff"));
    assertTrue(r.getLong("completed") > 0);
    assertEquals(r.getLong("requests"), r.getLong("completed"));
    assertEquals(r.getLong("requests"), servers.httpRequests.get());
  }

  @Test
  void warmupIsDiscarded() {
    Cli cli = benchJson(servers.url("/hello"), "--warmup", "300ms", "-n", "200", "-c", "4");
    assertEquals(0, cli.exit(), cli.err());
    assertEquals(200, cli.json().getLong("requests"));
    assertEquals(200, cli.json().getLong("completed"));
    assertTrue(servers.httpRequests.get() > 200, "warm-up requests reached the server too");
  }

  @Test
  void postWithBodyFromFileAndHeaders(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    String body = "{\"n\": 30, \"text\": \"h\u00e9llo\"}";
    servers.expectedBody = body;
    Path file = dir.resolve("body.json");
    Files.writeString(file, body, StandardCharsets.UTF_8);
    Cli fromFile = benchJson(servers.url("/echo"), "-m", "post", "--body", "@" + file, "-H", "X-Test: yes",
      "-H", "Content-Type: application/json", "-n", "50", "-c", "5");
    assertEquals(0, fromFile.exit(), fromFile.err());
    assertEquals(50, fromFile.json().getLong("completed"), fromFile.out());

    // picocli's default @argfile expansion leaves a single-token --body=@file alone
    Cli attached = bench(false, servers.url("/echo"), "-m", "POST", "--body=@" + file, "-H", "X-Test: yes", "-n", "5",
      "--json");
    assertEquals(0, attached.exit(), attached.err());
    assertEquals(5, attached.json().getLong("completed"), attached.out());

    Cli literal = benchJson(servers.url("/echo"), "--method", "POST", "--body", body, "--header", "X-Test:yes",
      "-n", "20");
    assertEquals(20, literal.json().getLong("completed"), literal.out());

    Cli missingHeader = benchJson(servers.url("/echo"), "--method", "POST", "--body", body, "-n", "5");
    assertEquals(new JsonObject().put("status 400", 5L), missingHeader.json().getJsonObject("errors"));
  }

  @Test
  void tcpPipeliningGetsEveryReplyAndCountsErrorReplies() {
    Cli cli = benchJson("tcp://127.0.0.1:" + servers.tcpPort(), "--line", "30", "--connections", "4",
      "--pipeline", "8", "-n", "1000");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    assertEquals(1000, r.getLong("requests"));
    assertEquals(1000, servers.tcpLines.get(), "lines received by the server");
    long errorReplies = servers.tcpErrorReplies.get();
    assertTrue(errorReplies >= 1000 / 5 - 4, "server sent " + errorReplies + " [Error] replies");
    assertEquals(new JsonObject().put("reply", errorReplies), r.getJsonObject("errors"));
    assertEquals(1000 - errorReplies, r.getLong("completed"));
    assertTrue(servers.tcpConnections.get() <= 4, "connections: " + servers.tcpConnections.get());
    assertTrue(servers.tcpMaxPending.get() <= 8, "pipeline depth exceeded: " + servers.tcpMaxPending.get());
    assertTrue(servers.tcpMaxPending.get() >= 2, "lines were pipelined: " + servers.tcpMaxPending.get());
    assertEquals(8, r.getInteger("pipeline"));
  }

  @Test
  void tcpForADuration() {
    Cli cli = benchJson("tcp://127.0.0.1:" + servers.tcpPort(), "--line", "7", "-c", "2", "-d", "1s");
    assertEquals(0, cli.exit(), cli.err());
    JsonObject r = cli.json();
    long requests = r.getLong("requests");
    assertTrue(requests > 0);
    assertEquals(requests, servers.tcpLines.get());
    assertEquals(requests, r.getLong("completed") + r.getJsonObject("errors").getLong("reply", 0L));
  }

  private static List<String> splitArgs(String flags) {
    // tiny shell-like split honouring single quotes
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    boolean has = false;
    for (char ch : flags.toCharArray()) {
      if (ch == '\'') {
        quoted = !quoted;
        has = true;
      } else if (ch == ' ' && !quoted) {
        if (has) {
          out.add(cur.toString());
          cur.setLength(0);
          has = false;
        }
      } else {
        cur.append(ch);
        has = true;
      }
    }
    if (has) {
      out.add(cur.toString());
    }
    return out;
  }
}
