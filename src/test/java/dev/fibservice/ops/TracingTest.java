package dev.fibservice.ops;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.DbTestNodes;
import dev.fibservice.ops.OtlpReceiver.ReceivedSpan;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tracing on real nodes, its spans read back from a real OTLP export (decoded by {@link OtlpReceiver}): off by default
 * and then nothing of it runs; on, one trace per request with the caller's trace id kept, {@code fib.node} on every
 * span, the trace named in responses, error bodies, bridge replies and log lines, SQL statements and background jobs
 * in traces, exemplars on the /fib histogram, and dropped spans counted.
 */
class TracingTest {

  private static final Duration EXPORTED_WITHIN = Duration.ofSeconds(30);
  private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-0([0-3])");

  @Test
  void offByDefaultMeansNoTracerNoExporterThreadAndNoTraceInAnswers() throws Exception {
    long exportersBefore = exporterThreads();
    FibService service = TestNodes.start(Map.of("fib.warmup", "false", "node.name", "untraced"));
    Vertx vertx = Vertx.vertx();
    try {
      assertNull(((VertxInternal) service.vertx()).tracer(), "Vert.x runs without its tracing SPI");
      assertFalse(Traces.enabled(service.vertx()));
      assertEquals(exportersBefore, exporterThreads(), "no exporter thread started");
      WebClient client = TestNodes.client(vertx, service);
      HttpResponse<Buffer> ok = client.get("/fib/20").putHeader("traceparent", caller(true)).send().await();
      assertEquals(200, ok.statusCode());
      assertNull(ok.getHeader("traceparent"), "no trace to name");
      HttpResponse<Buffer> bad = client.get("/fib/x").send().await();
      assertEquals(400, bad.statusCode());
      assertFalse(bad.bodyAsJsonObject().containsKey("traceId"), bad.bodyAsString());
      assertFalse(client.get("/metrics").send().await().bodyAsString().contains("fib_tracing_"),
        "no tracing metrics either");
    } finally {
      vertx.close().await();
      TestNodes.stop(service);
    }
  }

  @Test
  void oneTracePerRequestThroughEveryHopWithTheCallersTraceIdAndTheNodeOnEverySpan() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver(); CapturedMdc access = new CapturedMdc("dev.fibservice.access")) {
      long exportersBefore = exporterThreads();
      FibService service = DbTestNodes.start("tracing", Map.of("fib.warmup", "false", "node.name", "traced-1",
        "tracing.exporter", "otlp", "tracing.endpoint", receiver.endpoint(), "http.accessLog", "true",
        "bridge.enabled", "true", "bridge.port", "0"));
      Vertx vertx = Vertx.vertx();
      try {
        assertNotNull(((VertxInternal) service.vertx()).tracer(), "Vert.x has its tracer");
        assertTrue(exporterThreads() > exportersBefore, "the exporter's thread runs");
        WebClient client = TestNodes.client(vertx, service);

        // every kind of request first, then their traces (the exporter sends every 5 s)
        String callerTrace = randomHex(16);
        String callerSpan = randomHex(8);
        HttpResponse<Buffer> ok = client.get("/fib/25").putHeader("traceparent", "00-" + callerTrace + "-" + callerSpan
          + "-01").send().await();
        HttpResponse<Buffer> bad = client.get("/fib/x").send().await();
        HttpResponse<Buffer> db = client.get("/db").send().await();
        HttpResponse<Buffer> job = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 300)).await();
        try (Socket tcp = new Socket("127.0.0.1", service.tcpPort())) {
          OutputStream out = tcp.getOutputStream();
          out.write("100 iterative\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          tcp.setSoTimeout(10_000);
          assertTrue(tcp.getInputStream().read() > 0);
        }
        String bridgeTrace = randomHex(16);
        String bridgeCaller = randomHex(8);
        JsonObject reply = bridgeExchange(service.bridgePort(), new JsonObject().put("type", "send")
          .put("address", "fib.compute").put("replyAddress", "r1").put("body", new JsonObject().put("n", 40))
          .put("headers", new JsonObject().put("traceparent", "00-" + bridgeTrace + "-" + bridgeCaller + "-01")));

        // a caller's trace is continued, and the answer names it
        assertEquals(200, ok.statusCode(), ok.bodyAsString());
        Matcher header = TRACEPARENT.matcher(String.valueOf(ok.getHeader("traceparent")));
        assertTrue(header.matches(), "traceparent answered: " + ok.getHeader("traceparent"));
        assertEquals(callerTrace, header.group(1), "the caller's trace id is kept");
        List<ReceivedSpan> trace = awaitSpans(receiver, callerTrace, "fib.compute", "fib.reply");
        ReceivedSpan http = one(trace, "GET /fib/:n");
        assertEquals(OtlpReceiver.SERVER, http.kind());
        assertEquals(callerSpan, http.parentSpanId(), "the request's span continues the caller's");
        assertEquals(header.group(2), http.spanId(), "the answer's traceparent is the request's span");
        assertEquals("/fib/:n", http.attribute("http.route"));
        ReceivedSpan gateway = one(trace, "fib.gateway");
        ReceivedSpan compute = one(trace, "fib.compute");
        ReceivedSpan queue = one(trace, "fib.queue");
        assertEquals(gateway.spanId(), compute.parentSpanId());
        assertEquals(gateway.spanId(), queue.parentSpanId());
        assertEquals(List.of("admitted"), gateway.events());
        assertEquals("light", gateway.attribute("fib.lane"));
        assertEquals(25L, compute.attribute("fib.n"));
        assertEquals("doubling", compute.attribute("fib.algorithm"));
        assertEquals(5L, compute.attribute("fib.digits"), "F(25) = 75025");
        // the event-bus hop: the front's send (a child of the request) is the gateway's parent, through its receive
        ReceivedSpan receive = byId(trace, gateway.parentSpanId());
        assertEquals(OtlpReceiver.SERVER, receive.kind());
        assertEquals("fib.compute", receive.attribute("messaging.destination.name"));
        ReceivedSpan send = byId(trace, receive.parentSpanId());
        assertEquals(OtlpReceiver.CLIENT, send.kind());
        assertEquals(http.spanId(), send.parentSpanId());
        assertEquals(http.spanId(), one(trace, "fib.reply").parentSpanId());
        assertEquals(7, trace.size(), names(trace));
        for (ReceivedSpan span : trace) {
          assertEquals("traced-1", span.attribute("fib.node"), span.name() + " carries the node's name");
          assertEquals("fib-service", span.resource().get("service.name"));
        }
        // the access log's line for it, written after the answer, still names its trace and span
        assertTrue(access.has(callerTrace, http.spanId()), access.toString());

        // an error's body names the trace a person can report
        assertEquals(400, bad.statusCode());
        Matcher badHeader = TRACEPARENT.matcher(String.valueOf(bad.getHeader("traceparent")));
        assertTrue(badHeader.matches(), bad.headers().toString());
        assertEquals(badHeader.group(1), bad.bodyAsJsonObject().getString("traceId"), bad.bodyAsString());

        // /db: its SQL statement is a span of the request
        assertEquals(200, db.statusCode(), db.bodyAsString());
        List<ReceivedSpan> dbSpans = awaitSpans(receiver, traceOf(db), "Query");
        assertEquals("SELECT 1", one(dbSpans, "Query").attribute("db.query.text"));
        assertEquals(one(dbSpans, "GET /db").spanId(), one(dbSpans, "Query").parentSpanId());

        // a background job runs in the trace of the request that submitted it: its computation and the statements that
        // store it
        assertEquals(202, job.statusCode(), job.bodyAsString());
        String jobId = job.bodyAsJsonObject().getString("id");
        Eventually.await("a traced run of job " + jobId, EXPORTED_WITHIN, () -> receiver.spans().stream()
          .anyMatch(s -> s.name().equals("fib.job") && jobId.equals(s.attribute("fib.job.id"))));
        ReceivedSpan run = receiver.spans().stream()
          .filter(s -> s.name().equals("fib.job") && jobId.equals(s.attribute("fib.job.id"))).findFirst().orElseThrow();
        List<ReceivedSpan> jobSpans = awaitSpans(receiver, run.traceId(), "fib.compute", "Query");
        assertEquals(traceOf(job), run.traceId(), "a job's run continues the trace of its submit");
        assertTrue(receiver.trace(traceOf(job)).stream().anyMatch(s -> s.spanId().equals(run.parentSpanId())),
          "a job's run is the child of a span of its submit: " + names(receiver.trace(traceOf(job))));
        assertEquals(run.spanId(), one(jobSpans, "fib.compute").parentSpanId());
        assertTrue(jobSpans.stream().anyMatch(s -> s.name().equals("Query") && run.spanId().equals(s.parentSpanId())
          && String.valueOf(s.attribute("db.query.text")).startsWith("UPDATE jobs SET status = 'DONE'")),
          "the job's store is in its trace: " + names(jobSpans));
        assertTrue(receiver.trace(traceOf(job)).stream().anyMatch(s -> s.name().equals("Query")
          && String.valueOf(s.attribute("db.query.text")).startsWith("INSERT INTO jobs")), "POST /jobs' insert is in"
          + " its request's trace: " + names(receiver.trace(traceOf(job))));

        // a TCP line: a trace of its own (the protocol has no room for the caller's)
        Eventually.await("the TCP line's trace", EXPORTED_WITHIN, () -> receiver.spans().stream()
          .anyMatch(s -> s.name().equals("TCP line") && Long.valueOf(100).equals(s.attribute("fib.n"))));
        ReceivedSpan line = receiver.spans().stream().filter(s -> s.name().equals("TCP line")).findFirst().orElseThrow();
        assertEquals(OtlpReceiver.SERVER, line.kind());
        assertEquals("", line.parentSpanId());
        awaitSpans(receiver, line.traceId(), "fib.compute");

        // a bridge send with the caller's traceparent: continued, and the reply's headers name it
        assertEquals("message", reply.getString("type"), reply.encode());
        Matcher replied = TRACEPARENT.matcher(reply.getJsonObject("headers").getString("traceparent"));
        assertTrue(replied.matches(), reply.encode());
        assertEquals(bridgeTrace, replied.group(1));
        List<ReceivedSpan> bridged = awaitSpans(receiver, bridgeTrace, "bridge fib.compute", "fib.compute");
        assertEquals(bridgeCaller, one(bridged, "bridge fib.compute").parentSpanId());
        assertEquals(replied.group(2), one(bridged, "bridge fib.compute").spanId());

        // exemplars: an OpenMetrics scrape shows a trace id on the /fib histogram's buckets
        HttpResponse<Buffer> openMetrics = client.get("/metrics")
          .putHeader("Accept", "application/openmetrics-text; version=1.0.0").send().await();
        assertTrue(openMetrics.getHeader("Content-Type").startsWith("application/openmetrics-text"));
        assertTrue(Pattern.compile("fib_http_fib_requests_seconds_bucket\\{[^}]*lane=\"light\"[^}]*} \\d+ # \\{[^}]*"
          + "trace_id=\"" + callerTrace + "\"").matcher(openMetrics.bodyAsString()).find(),
          "an exemplar with the request's trace id");
        // Prometheus 2.x refuses a whole OpenMetrics scrape with an exemplar anywhere else
        assertEquals(List.of(), openMetrics.bodyAsString().lines().filter(l -> l.contains(" # {")
          && !l.contains("_bucket{") && !l.contains("_total{") && !l.contains("_total ")).toList(),
          "exemplars only on buckets and counters");
        // scrapes are never traced
        HttpResponse<Buffer> scrape = client.get("/metrics").send().await();
        assertTrue(TRACEPARENT.matcher(String.valueOf(scrape.getHeader("traceparent"))).matches());
        assertFalse(sampled(scrape), "a scrape's trace is not sampled: " + scrape.getHeader("traceparent"));
      } finally {
        vertx.close().await();
        TestNodes.stop(service);
      }
      // its close has sent what was left; the thread itself ends a moment later
      assertTrue(Eventually.within(Duration.ofSeconds(10), () -> exporterThreads() == exportersBefore),
        "the exporter's thread ends with the node");
    }
  }

  @Test
  void newTracesFollowTheRatioAndCallersTheirSampledFlag() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      FibService service = TestNodes.start(Map.of("fib.warmup", "false", "node.name", "traced-0",
        "tracing.exporter", "otlp", "tracing.endpoint", receiver.endpoint(), "tracing.sampleRatio", "0"));
      Vertx vertx = Vertx.vertx();
      try {
        WebClient client = TestNodes.client(vertx, service);
        // ratio 0: a new trace has its id (logs, answers) but is not recorded
        HttpResponse<Buffer> fresh = client.get("/fib/30").send().await();
        assertFalse(sampled(fresh), fresh.getHeader("traceparent"));
        String unsampled = traceOf(fresh);
        // the caller's flag decides for its request (tracing.honourCallerSampled defaults to true)
        String wanted = randomHex(16);
        HttpResponse<Buffer> sampled = client.get("/fib/31").putHeader("traceparent", "00-" + wanted + "-"
          + randomHex(8) + "-01").send().await();
        assertEquals(wanted, traceOf(sampled));
        String declined = randomHex(16);
        client.get("/fib/32").putHeader("traceparent", "00-" + declined + "-" + randomHex(8) + "-00").send().await();
        awaitSpans(receiver, wanted, "fib.compute");
        // the two others were handled before the sampled one ended: had they been recorded, they would be here
        Thread.sleep(500);
        assertEquals(List.of(), receiver.trace(unsampled));
        assertEquals(List.of(), receiver.trace(declined));
      } finally {
        vertx.close().await();
        TestNodes.stop(service);
      }
    }
  }

  @Test
  void spansTheExporterCouldNotSendAreCountedByReason() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      receiver.refuse();
      FibService service = TestNodes.start(Map.of("fib.warmup", "false", "node.name", "traced-drops",
        "tracing.exporter", "otlp", "tracing.endpoint", receiver.endpoint(), "tracing.maxQueuedSpans", "2"));
      Vertx vertx = Vertx.vertx();
      try {
        WebClient client = TestNodes.client(vertx, service);
        // each request ends six spans at once: a queue of two overflows
        List<io.vertx.core.Future<HttpResponse<Buffer>>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          all.add(client.get("/fib/" + (40 + i)).send());
        }
        io.vertx.core.Future.all(all).await();
        Eventually.await("both kinds of drops counted", EXPORTED_WITHIN, () -> {
          String metrics = client.get("/metrics").send().await().bodyAsString();
          return count(metrics, "fib_tracing_spans_dropped_total{reason=\"queue_full\"") > 0
            && count(metrics, "fib_tracing_spans_dropped_total{reason=\"export_failed\"") > 0;
        }, () -> client.get("/metrics").send().await().bodyAsString().lines()
          .filter(l -> l.startsWith("fib_tracing")).toList().toString());
        assertTrue(receiver.posts() > 0, "the exports were tried");
      } finally {
        vertx.close().await();
        TestNodes.stop(service);
      }
    }
  }

  // --- helpers ---

  private static long exporterThreads() {
    return Thread.getAllStackTraces().keySet().stream()
      .filter(t -> t.isAlive() && t.getName().startsWith("BatchSpanProcessor")).count();
  }

  private static String caller(boolean sampled) {
    return "00-" + randomHex(16) + "-" + randomHex(8) + (sampled ? "-01" : "-00");
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    b[0] |= 1; // never all zeros (an invalid id)
    return HexFormat.of().formatHex(b);
  }

  /** Whether the answer's traceparent says its trace is recorded (the flags' lowest bit). */
  private static boolean sampled(HttpResponse<Buffer> response) {
    traceOf(response);
    String header = response.getHeader("traceparent");
    return (Integer.parseInt(header.substring(header.length() - 2), 16) & 1) == 1;
  }

  private static String traceOf(HttpResponse<Buffer> response) {
    Matcher m = TRACEPARENT.matcher(String.valueOf(response.getHeader("traceparent")));
    assertTrue(m.matches(), "traceparent: " + response.getHeader("traceparent"));
    return m.group(1);
  }

  /** The spans of a trace, once those named have arrived. */
  private static List<ReceivedSpan> awaitSpans(OtlpReceiver receiver, String traceId, String... names)
    throws Exception {
    Eventually.await("spans " + List.of(names) + " of trace " + traceId, EXPORTED_WITHIN,
      () -> List.of(names).stream().allMatch(n -> receiver.trace(traceId).stream().anyMatch(s -> s.name().equals(n))),
      () -> names(receiver.trace(traceId)));
    return receiver.trace(traceId);
  }

  private static ReceivedSpan one(List<ReceivedSpan> spans, String name) {
    List<ReceivedSpan> named = spans.stream().filter(s -> s.name().equals(name)).toList();
    assertEquals(1, named.size(), "one " + name + " in " + names(spans));
    return named.get(0);
  }

  private static ReceivedSpan byId(List<ReceivedSpan> spans, String id) {
    return spans.stream().filter(s -> s.spanId().equals(id)).findFirst()
      .orElseThrow(() -> new AssertionError("no span " + id + " in " + names(spans)));
  }

  private static String names(List<ReceivedSpan> spans) {
    StringBuilder all = new StringBuilder();
    spans.forEach(s -> all.append(s.name()).append('(').append(s.spanId()).append(" <- ").append(s.parentSpanId())
      .append(") "));
    return all.toString();
  }

  private static long count(String metrics, String prefix) {
    return metrics.lines().filter(l -> l.startsWith(prefix))
      .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static JsonObject bridgeExchange(int port, JsonObject frame) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      byte[] data = frame.encode().getBytes(StandardCharsets.UTF_8);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(data.length);
      out.write(data);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] reply = new byte[in.readInt()];
      in.readFully(reply);
      return new JsonObject(new String(reply, StandardCharsets.UTF_8));
    }
  }

  /** The MDC trace and span ids of the lines one logger writes, read as each line is appended (on its thread). */
  private static final class CapturedMdc extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final Logger logger;
    private final List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

    CapturedMdc(String name) {
      logger = (Logger) LoggerFactory.getLogger(name);
      setContext(logger.getLoggerContext());
      start();
      logger.addAppender(this);
    }

    @Override
    protected void append(ILoggingEvent event) {
      Map<String, String> mdc = event.getMDCPropertyMap();
      seen.add(mdc.get(TraceIds.TRACE_ID) + "/" + mdc.get(TraceIds.SPAN_ID) + " " + event.getFormattedMessage());
    }

    boolean has(String traceId, String spanId) throws Exception {
      return Eventually.within(Duration.ofSeconds(10), () -> seen.stream()
        .anyMatch(l -> l.startsWith(traceId + "/" + spanId + " ")));
    }

    @Override
    public String toString() {
      return seen.toString();
    }

    @Override
    public void close() {
      logger.detachAppender(this);
      stop();
    }
  }
}
