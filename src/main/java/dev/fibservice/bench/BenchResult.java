package dev.fibservice.bench;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of a run. {@link #toJson()} is the single source of the report's fields: {@code --json} prints it and
 * the text report ({@link #toText()}) renders the same values.
 *
 * <p>{@code requests} = requests issued during the measurement = {@code completed} + the sum of {@code errors}.
 * {@code completed} counts successful requests (HTTP status &lt; 400, TCP reply not starting with {@code [Error]}).
 * Latencies cover every request that got a response (including error statuses and {@code [Error]} replies), in
 * microseconds; in {@code --rate} mode {@code latencyMicros} is measured from the intended send time (corrected for
 * coordinated omission) and {@code latencyMicrosUncorrected} from the actual send time.
 */
public final class BenchResult {

  /** Latency percentiles in microseconds. */
  public record Latency(long min, long p50, long p90, long p99, long p999, long max, double mean, long count) {

    static Latency of(Histogram h) {
      if (h.getTotalCount() == 0) {
        return new Latency(0, 0, 0, 0, 0, 0, 0, 0);
      }
      return new Latency(h.getMinValue(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
        h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(),
        Math.round(h.getMean() * 10) / 10.0, h.getTotalCount());
    }

    public JsonObject toJson() {
      return new JsonObject()
        .put("min", min).put("p50", p50).put("p90", p90).put("p99", p99).put("p999", p999).put("max", max)
        .put("mean", mean);
    }
  }

  private final String target;
  private final String mode;
  private final String transport;
  private final int threads;
  private final int concurrency;
  private final int connections;
  private final int pipeline;
  private final double rate;
  private final boolean keepAlive;
  private final double warmupSeconds;
  private final long requests;
  private final long completed;
  private final Map<String, Long> errors;
  private final double durationSeconds;
  private final long bytes;
  private final Latency latency;
  private final Latency latencyUncorrected;
  private final boolean cutOff;
  private final Histogram histogram;

  BenchResult(BenchOptions.Plan plan, String transport, Stats stats, double durationSeconds, boolean cutOff) {
    this.target = plan.target().toString();
    this.mode = plan.target().scheme();
    this.transport = transport;
    this.threads = plan.threads();
    this.concurrency = plan.concurrency();
    this.connections = plan.connections();
    this.pipeline = plan.pipeline();
    this.rate = plan.rate();
    this.keepAlive = plan.keepAlive();
    this.warmupSeconds = plan.warmup().toNanos() / 1e9;
    this.requests = stats.requests;
    this.completed = stats.completed;
    this.errors = Collections.unmodifiableMap(stats.errorMap());
    this.durationSeconds = durationSeconds;
    this.bytes = stats.bytes;
    this.latency = Latency.of(stats.latency);
    this.latencyUncorrected = plan.rate() > 0 ? Latency.of(stats.uncorrected) : null;
    this.cutOff = cutOff;
    this.histogram = stats.latency;
  }

  public String target() { return target; }
  /** {@code http} or {@code tcp}. */
  public String mode() { return mode; }
  public long requests() { return requests; }
  public long completed() { return completed; }
  /** Error kind ({@code connect}, {@code timeout}, {@code status 500}, {@code read/reset}, {@code reply}, {@code other},
   * {@code aborted}) → count; only kinds that occurred. */
  public Map<String, Long> errors() { return errors; }
  public long errorCount() { return errors.values().stream().mapToLong(Long::longValue).sum(); }
  public double durationSeconds() { return durationSeconds; }
  /** Successful requests per second. */
  public double requestsPerSecond() { return durationSeconds > 0 ? completed / durationSeconds : 0; }
  /** Response bytes (status line, headers, body; TCP reply lines) per second. */
  public double bytesPerSecond() { return durationSeconds > 0 ? bytes / durationSeconds : 0; }
  public long bytes() { return bytes; }
  /** Corrected latency in --rate mode, else the only latency. */
  public Latency latency() { return latency; }
  /** Latency from the actual send time; {@code null} unless --rate. */
  public Latency latencyUncorrected() { return latencyUncorrected; }
  /** Whether the run was cut off by --max-duration (requests still in flight count as {@code aborted}). */
  public boolean cutOff() { return cutOff; }
  /** The (corrected) latency histogram in microseconds, e.g. for percentile distributions. */
  public Histogram histogram() { return histogram.copy(); }
  /** True when requests were issued and none succeeded: the command exits with 1. */
  public boolean allFailed() { return requests > 0 && completed == 0; }

  /** The report as one JSON object; the single source of truth of the report fields. */
  public JsonObject toJson() {
    JsonObject errs = new JsonObject();
    errors.forEach(errs::put);
    JsonObject json = new JsonObject()
      .put("target", target)
      .put("mode", mode)
      .put("transport", transport)
      .put("threads", threads)
      .put("concurrency", concurrency)
      .put("connections", connections);
    json.put("pipeline", pipeline);
    if (!"tcp".equals(mode)) {
      json.put("keepAlive", keepAlive);
    }
    if (rate > 0) {
      json.put("rate", rate);
    }
    json.put("warmupSeconds", warmupSeconds)
      .put("requests", requests)
      .put("completed", completed)
      .put("errors", errs)
      .put("durationSeconds", round3(durationSeconds))
      .put("requestsPerSecond", round1(requestsPerSecond()))
      .put("bytes", bytes)
      .put("bytesPerSecond", round1(bytesPerSecond()))
      .put("latencyMicros", latency.toJson());
    if (latencyUncorrected != null) {
      json.put("latencyMicrosUncorrected", latencyUncorrected.toJson());
    }
    json.put("cutOff", cutOff);
    return json;
  }

  /** A human-readable report (ab/wrk style) of the same fields as {@link #toJson()}. */
  public String toText() {
    JsonObject j = toJson();
    StringBuilder sb = new StringBuilder();
    line(sb, "Target", j.getString("target") + (rate > 0 ? "  (fixed rate " + fmt(rate) + " req/s)" : ""));
    String shape = "tcp".equals(mode)
      ? connections + " connections x pipeline " + pipeline + ", max " + concurrency + " in flight"
      : "concurrency " + concurrency + ", " + connections + " connections" + (keepAlive ? "" : " (no keep-alive)")
        + (pipeline > 1 ? ", HTTP pipelining " + pipeline : "");
    line(sb, "Load", shape + ", " + threads + " event loop" + (threads == 1 ? "" : "s") + ", " + transport);
    if (warmupSeconds > 0) {
      line(sb, "Warm-up", fmt(warmupSeconds) + " s (discarded)");
    }
    line(sb, "Duration", String.format(Locale.ROOT, "%.3f s", durationSeconds) + (cutOff ? "  (cut off by --max-duration)" : ""));
    line(sb, "Requests", Long.toString(requests));
    line(sb, "Completed", Long.toString(completed));
    if (errors.isEmpty()) {
      line(sb, "Errors", "0");
    } else {
      line(sb, "Errors", Long.toString(errorCount()));
      for (Map.Entry<String, Long> e : errors.entrySet()) {
        line(sb, "  " + e.getKey(), Long.toString(e.getValue()));
      }
    }
    line(sb, "Requests/sec", String.format(Locale.ROOT, "%.1f", requestsPerSecond()));
    line(sb, "Transfer", humanBytes(bytesPerSecond()) + "/s (" + humanBytes(bytes) + " total)");
    latencyBlock(sb, rate > 0 ? "Latency (corrected for coordinated omission, from intended send time)" : "Latency", latency);
    if (latencyUncorrected != null) {
      latencyBlock(sb, "Latency (uncorrected, from actual send time)", latencyUncorrected);
    }
    return sb.toString();
  }

  private static void latencyBlock(StringBuilder sb, String title, Latency l) {
    sb.append(title).append(":\n");
    if (l.count() == 0) {
      sb.append("  (no responses)\n");
      return;
    }
    Map<String, Long> rows = new LinkedHashMap<>();
    rows.put("min", l.min());
    rows.put("p50", l.p50());
    rows.put("p90", l.p90());
    rows.put("p99", l.p99());
    rows.put("p99.9", l.p999());
    rows.put("max", l.max());
    rows.forEach((k, v) -> line(sb, "  " + k, micros(v)));
    line(sb, "  mean", micros(Math.round(l.mean())));
  }

  private static void line(StringBuilder sb, String key, String value) {
    sb.append(String.format(Locale.ROOT, "%-16s %s%n", key + ":", value));
  }

  private static String micros(long us) {
    if (us < 1_000) {
      return us + " us";
    }
    if (us < 1_000_000) {
      return String.format(Locale.ROOT, "%.2f ms", us / 1e3);
    }
    return String.format(Locale.ROOT, "%.3f s", us / 1e6);
  }

  private static String humanBytes(double b) {
    if (b < 1024) {
      return String.format(Locale.ROOT, "%.0f B", b);
    }
    if (b < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
    }
    if (b < 1024d * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.2f MiB", b / (1024 * 1024));
    }
    return String.format(Locale.ROOT, "%.2f GiB", b / (1024d * 1024 * 1024));
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%.3f", d);
  }

  private static double round1(double d) {
    return Math.round(d * 10) / 10.0;
  }

  private static double round3(double d) {
    return Math.round(d * 1000) / 1000.0;
  }

  @Override
  public String toString() {
    return toJson().encode();
  }
}
