package dev.fibservice.ops;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.DbTestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real scrape of /metrics, after traffic on every front end: it has every metric the alerting rules of
 * conf/prometheus/ read (those a cluster front makes are checked by ClusterIT), and piped into Prometheus's own linter,
 * {@code promtool check metrics} (Debian's prometheus package; {@code make test-tools} installs it), it gives nothing
 * to warn about.
 */
class PromtoolTest {

  @Test
  void aRealScrapeHasWhatTheRulesReadAndPassesPromtoolWithoutWarnings() throws Exception {
    FibService service = DbTestNodes.start("promtool", Map.of());
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = TestNodes.client(vertx, service);
      for (String path : new String[] {"/hello", "/hello?repeat=10000", "/fib/30", "/fib/20?algorithm=recursive",
        "/fib/100?algorithm=iterative", "/fib/x", "/nope", "/db", "/people", "/info", "/stats", "/health/ready"}) {
        client.get(path).send().await();
      }
      client.post("/jobs").sendJsonObject(new JsonObject().put("n", 100)).await();
      try (Socket tcp = new Socket("127.0.0.1", service.tcpPort())) {
        OutputStream out = tcp.getOutputStream();
        out.write("10\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        tcp.setSoTimeout(10_000);
        assertTrue(tcp.getInputStream().read() > 0);
      }
      HttpResponse<Buffer> scrape = client.get("/metrics").send().await();
      assertEquals(200, scrape.statusCode());
      String text = scrape.bodyAsString();
      assertTrue(text.contains("process_cpu_seconds_total"), "the JVM's CPU time, in seconds");
      assertTrue(text.contains("jvm_compilation_seconds_total"), "compilation time, in seconds");
      assertTrue(text.contains("system_cpus "), "processors, under a name that is no _count");
      assertTrue(text.contains("vertx_pool_"), "the pools' series are there to be checked too");
      assertFalse(text.contains("jvm_compilation_time_ms_total") || text.contains("process_cpu_time_ns_total")
        || text.contains("system_cpu_count"), "the names promtool warns about are gone");
      Set<String> named = new TreeSet<>(RuleMetrics.names());
      named.removeAll(RuleMetrics.FROM_PROMETHEUS);
      named.removeIf(n -> n.startsWith("fib_cluster_"));
      assertEquals(Set.of(), RuleMetrics.missingFrom(named, text), "metrics the rules read but this node has not");

      Path promtool = promtool();
      assumeTrue(promtool != null, "promtool is not installed: skipping the /metrics lint (make test-tools, as root,"
        + " installs it)");

      Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
      try (OutputStream in = check.getOutputStream()) {
        in.write(scrape.body().getBytes());
      }
      assertTrue(check.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
      String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, check.exitValue(), "promtool check metrics:\n" + said);
      assertEquals("", said.trim(), "promtool check metrics warned");
    } finally {
      vertx.close().await();
      TestNodes.stop(service);
    }
  }

  static Path promtool() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
