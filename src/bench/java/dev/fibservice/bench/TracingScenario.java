package dev.fibservice.bench;

import com.sun.net.httpserver.HttpServer;
import dev.fibservice.ServiceProcess;
import dev.fibservice.bench.SuiteProcesses.Cpu;
import dev.fibservice.bench.SuiteProcesses.Load;
import dev.fibservice.bench.SuiteProcesses.Sample;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.GZIPInputStream;

/**
 * What tracing costs (row T): three nodes of this jar side by side, tracing off, on with {@code tracing.sampleRatio=0},
 * on with {@code tracing.sampleRatio=1}, their spans going to a Zipkin-format sink in this JVM on loopback (it reads
 * each batch and answers 202, as Zipkin does, without a Zipkin JVM competing for the cores). {@code /hello} and
 * {@code /fib/30} keep-alive, rounds interleaved with the order rotated; throughput and the server's CPU per request,
 * counted over the run and a settling time after it, so that the exporter's batches of the run are part of the cost.
 */
final class TracingScenario implements AutoCloseable {

  /** After a run, the exporter still sends what the run recorded: its CPU counts, for every mode alike. */
  static final Duration SETTLE = Duration.ofSeconds(3);
  static final List<String> PATHS = List.of("/hello", "/fib/30");

  private record Mode(String name, List<String> args) {
  }

  private final BenchSuite suite;
  private final SuiteReport report;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final LongAdder batches = new LongAdder();
  private final LongAdder spans = new LongAdder();
  private final LongAdder bytes = new LongAdder();

  TracingScenario(BenchSuite suite) {
    this.suite = suite;
    this.report = suite.report;
  }

  void run() throws Exception {
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    sink.createContext("/api/v2/spans", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        byte[] body = in.readAllBytes();
        batches.increment();
        bytes.add(body.length);
        // Zipkin's URLConnectionSender gzips its batches
        boolean gzip = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"));
        spans.add(countSpans(gzip ? new GZIPInputStream(new ByteArrayInputStream(body)).readAllBytes() : body));
      }
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    sink.start();
    open.add(() -> sink.stop(0));
    String endpoint = "http://127.0.0.1:" + sink.getAddress().getPort() + "/api/v2/spans";
    List<Mode> modes = List.of(new Mode("off", List.of()),
      new Mode("on, ratio 0", List.of("--set", "tracing.exporter=zipkin", "--set", "tracing.endpoint=" + endpoint,
        "--set", "tracing.sampleRatio=0")),
      new Mode("on, ratio 1", List.of("--set", "tracing.exporter=zipkin", "--set", "tracing.endpoint=" + endpoint,
        "--set", "tracing.sampleRatio=1")));
    Map<Mode, ServiceProcess> nodes = new LinkedHashMap<>();
    for (Mode m : modes) {
      List<String> args = new ArrayList<>(List.of("--set", "mysql.host=off"));
      args.addAll(m.args());
      ServiceProcess node = suite.startNode("tracing-" + m.name().replaceAll("[^a-z0-9]+", "-"), args);
      if (node == null) {
        throw new IllegalStateException("node " + m.name() + " did not start; see " + suite.work.resolve("logs"));
      }
      open.add(node);
      nodes.put(m, node);
    }
    if (!report.hasServiceInfo()) {
      report.serviceInfo(BenchSuite.fetch(BenchSuite.http(nodes.get(modes.get(0)), "/info")));
    }
    String generator = suite.wrk != null ? "wrk" : "built-in";
    // the JIT of each node on each path first (the built-in tool: its own JVM, results discarded)
    for (ServiceProcess node : nodes.values()) {
      for (String path : PATHS) {
        suite.bench.run(Load.http(BenchSuite.http(node, path), BenchSuite.C, true), Duration.ofSeconds(4), Duration.ZERO);
      }
    }
    String before = SuiteReport.loadAverage();
    // per path and mode: each round's req/s and CPU per request, in round order
    Map<String, Map<String, List<double[]>>> runs = new LinkedHashMap<>();
    for (int r = 0; r < suite.rounds; r++) {
      for (String path : PATHS) {
        List<Mode> order = new ArrayList<>(modes);
        Collections.rotate(order, -r);
        for (Mode m : order) {
          ServiceProcess node = nodes.get(m);
          ProcessHandle process = ProcessHandle.of(node.pid()).orElse(null);
          Load load = Load.http(BenchSuite.http(node, path), BenchSuite.C, true);
          double cpu0 = Cpu.seconds(process);
          Sample s = suite.wrk != null ? suite.wrk.run(load, suite.seconds) : suite.bench.run(load, suite.seconds,
            suite.warmup);
          Thread.sleep(SETTLE.toMillis());
          s = s.withServerCpu(Cpu.seconds(process) - cpu0);
          String label = "`" + path + "` keep-alive c=" + BenchSuite.C + ", tracing";
          System.out.printf(Locale.ROOT, "   T    %-40s %-12s %10.0f req/s  %8.1f µs/req%n", path, m.name(), s.rps(),
            s.serverCpuMicros());
          report.add("T", label, m.name(), generator, s);
          runs.computeIfAbsent(path, k -> new LinkedHashMap<>()).computeIfAbsent(m.name(), k -> new ArrayList<>())
            .add(new double[] {s.rps(), s.serverCpuMicros()});
        }
      }
    }
    String after = SuiteReport.loadAverage();
    JsonObject metrics = new JsonObject();
    for (Mode m : modes) {
      metrics.put(m.name(), spanCounters(nodes.get(m)));
    }
    report.section("Tracing's cost (T)", markdown(runs, metrics, generator, before, after), "tracing",
      raw(runs, metrics, before, after));
  }

  /** The node's span counters from its /metrics (exported, dropped by reason), empty when tracing is off. */
  private static JsonObject spanCounters(ServiceProcess node) throws Exception {
    JsonObject counters = new JsonObject();
    for (String line : BenchSuite.fetch(BenchSuite.http(node, "/metrics")).split("\n")) {
      if (line.startsWith("fib_tracing_spans_")) {
        int space = line.lastIndexOf(' ');
        counters.put(line.substring(0, space), (long) Double.parseDouble(line.substring(space + 1)));
      }
    }
    return counters;
  }

  /** Spans in a Zipkin v2 JSON batch: a list of objects, each with one "traceId". */
  static long countSpans(byte[] body) {
    String s = new String(body, java.nio.charset.StandardCharsets.UTF_8);
    long n = 0;
    for (int i = s.indexOf("\"traceId\""); i >= 0; i = s.indexOf("\"traceId\"", i + 1)) {
      n++;
    }
    return n;
  }

  private String markdown(Map<String, Map<String, List<double[]>>> runs, JsonObject metrics, String generator,
                          String before, String after) {
    StringBuilder md = new StringBuilder();
    md.append("Three nodes of this jar side by side (`--set mysql.host=off`): tracing off; on (`tracing.exporter=zipkin`)"
      + " with `tracing.sampleRatio=0`; on with `tracing.sampleRatio=1`, their spans sent to a Zipkin-format sink in the"
      + " harness on loopback that reads each batch and answers 202. ").append(generator)
      .append(" -c").append(BenchSuite.C).append(" keep-alive, ").append(suite.seconds.toSeconds())
      .append(" s per run, ").append(suite.rounds).append(" rounds, the order of the nodes rotated each round, each node"
      + " warmed on each path first. Server CPU per request: the node's user + system time over the run and the ")
      .append(SETTLE.toSeconds()).append(" s after it (the exporter's batches of the run count), per request. Load"
      + " average before: ").append(before).append("; after: ").append(after).append(".\n\n");
    md.append("| path | tracing | req/s (median) | × off | server CPU µs/req (median) | × off | rounds (req/s; µs/req) |\n"
      + "|---|---|---:|---:|---:|---:|---|\n");
    for (var byPath : runs.entrySet()) {
      List<double[]> off = byPath.getValue().get("off");
      for (var byMode : byPath.getValue().entrySet()) {
        List<double[]> v = byMode.getValue();
        // the ratios per round: the nodes of one round ran back to back, so drift of the machine cancels more
        double rpsRatio = medianRatio(v, off, 0);
        double cpuRatio = medianRatio(v, off, 1);
        StringBuilder each = new StringBuilder();
        for (double[] x : v) {
          each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f; %.1f", x[0], x[1]));
        }
        md.append(String.format(Locale.ROOT, "| `%s` | %s | %.0f | %.2f× | %.1f | %.2f× | %s |%n", byPath.getKey(),
          byMode.getKey(), median(v, 0), rpsRatio, median(v, 1), cpuRatio, each));
      }
    }
    md.append("\n× off: the median over the rounds of each round's ratio to the node with tracing off.\n\n");
    md.append(String.format(Locale.ROOT, "The sink received %,d spans in %,d batches (%,d bytes, gzipped JSON). Span counters of the"
      + " nodes at the end (`/metrics`): %s.%n", spans.sum(), batches.sum(), bytes.sum(), metrics.encode()));
    return md.toString();
  }

  private JsonObject raw(Map<String, Map<String, List<double[]>>> runs, JsonObject metrics, String before,
                         String after) {
    JsonObject raw = new JsonObject().put("loadBefore", before).put("loadAfter", after).put("settleSeconds",
      SETTLE.toSeconds()).put("sink", new JsonObject().put("spans", spans.sum()).put("batches", batches.sum())
      .put("bytes", bytes.sum())).put("counters", metrics);
    for (var byPath : runs.entrySet()) {
      JsonObject p = new JsonObject();
      for (var byMode : byPath.getValue().entrySet()) {
        JsonArray rounds = new JsonArray();
        byMode.getValue().forEach(x -> rounds.add(new JsonObject().put("rps", x[0]).put("cpuMicros", x[1])));
        p.put(byMode.getKey(), rounds);
      }
      raw.put(byPath.getKey(), p);
    }
    return raw;
  }

  private static double median(List<double[]> v, int i) {
    return SuiteReport.median(v.stream().mapToDouble(x -> x[i]).toArray());
  }

  private static double medianRatio(List<double[]> v, List<double[]> off, int i) {
    double[] r = new double[Math.min(v.size(), off.size())];
    for (int k = 0; k < r.length; k++) {
      r[k] = v.get(k)[i] / off.get(k)[i];
    }
    return SuiteReport.median(r);
  }

  @Override
  public void close() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception ignore) {
        // best effort
      }
    }
    open.clear();
  }
}
