package dev.fibservice.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything a load run needs, for both the {@code bench} command and the programmatic API ({@link Bench#run}).
 * Unset values ({@code null}) get the documented defaults in {@link #validate()}, which also checks ranges and
 * throws {@link BenchUsageException} with a one-line message naming the option and the accepted range.
 *
 * <pre>{@code
 * BenchResult r = Bench.run(new BenchOptions().target("http://127.0.0.1:8080/fib/30").requests(10_000).concurrency(32));
 * }</pre>
 */
public final class BenchOptions {

  public static final int DEFAULT_CONCURRENCY = 10;
  public static final long DEFAULT_REQUESTS = 1000;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(10);

  static final int MAX_CONCURRENCY = 100_000;
  static final int MAX_CONNECTIONS = 100_000;
  static final int MAX_PIPELINE = 10_000;
  static final int MAX_THREADS = 256;
  static final long MAX_REQUESTS = Long.MAX_VALUE / 2;
  static final double MAX_RATE = 10_000_000d;
  static final Duration MAX_MAX_DURATION = Duration.ofHours(24);
  static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private String target;
  private String method;
  private byte[] body;
  private final List<Map.Entry<String, String>> headers = new ArrayList<>();
  private Integer concurrency;
  private Integer connections;
  private Integer pipeline;
  private Long requests;
  private Duration duration;
  private boolean keepAlive = true;
  private Duration timeout;
  private Double rate;
  private Duration warmup;
  private Duration maxDuration;
  private String line;
  private Integer threads;
  private boolean allowRemote;
  private boolean progress;

  /** {@code http://host:port/path?query} or {@code tcp://host:port}. */
  public BenchOptions target(String target) { this.target = target; return this; }
  /** HTTP method, default GET. */
  public BenchOptions method(String method) { this.method = method; return this; }
  public BenchOptions body(byte[] body) { this.body = body; return this; }
  public BenchOptions body(String body) { this.body = body == null ? null : body.getBytes(StandardCharsets.UTF_8); return this; }
  public BenchOptions header(String name, String value) { headers.add(Map.entry(name, value)); return this; }
  /** Hard cap on requests in flight (default 10; TCP: connections x pipeline). */
  public BenchOptions concurrency(int c) { this.concurrency = c; return this; }
  /** HTTP pool size (default = concurrency, or concurrency / pipeline) or number of TCP connections. */
  public BenchOptions connections(int n) { this.connections = n; return this; }
  /** TCP: lines in flight per connection (default 1). HTTP: opt-in HTTP/1.1 pipelining depth (default 1 = off). */
  public BenchOptions pipeline(int depth) { this.pipeline = depth; return this; }
  /** Total requests to send (default 1000 unless a duration is given). */
  public BenchOptions requests(long n) { this.requests = n; return this; }
  public BenchOptions duration(Duration d) { this.duration = d; return this; }
  /** {@code false}: a new connection per request and {@code Connection: close} (like ab without -k). */
  public BenchOptions keepAlive(boolean keepAlive) { this.keepAlive = keepAlive; return this; }
  public BenchOptions timeout(Duration timeout) { this.timeout = timeout; return this; }
  /** Fixed-rate mode: requests per second, latency measured from the intended send time. */
  public BenchOptions rate(double perSecond) { this.rate = perSecond; return this; }
  public BenchOptions warmup(Duration warmup) { this.warmup = warmup; return this; }
  public BenchOptions maxDuration(Duration maxDuration) { this.maxDuration = maxDuration; return this; }
  /** TCP only: the line sent per request (without the newline). */
  public BenchOptions line(String line) { this.line = line; return this; }
  /** Event-loop threads of the load generator (default: available processors, at most concurrency). */
  public BenchOptions threads(int threads) { this.threads = threads; return this; }
  public BenchOptions allowRemote(boolean allowRemote) { this.allowRemote = allowRemote; return this; }
  /** Show the live progress bar on stderr (only if a console is attached). */
  public BenchOptions progress(boolean progress) { this.progress = progress; return this; }

  public String target() { return target; }

  // ------------------------------------------------------------------------------------------------------------

  /** The validated options with every default applied. */
  record Plan(
    Target target,
    String method,
    byte[] body,
    List<Map.Entry<String, String>> headers,
    int concurrency,
    int connections,
    int pipeline,
    long requests,          // -1 when duration-bounded
    Duration duration,      // null when count-bounded
    boolean keepAlive,
    Duration timeout,
    double rate,            // 0 = closed loop
    Duration warmup,
    Duration maxDuration,
    String line,
    int threads,
    boolean allowRemote,
    boolean progress) {

    boolean tcp() { return target.tcp(); }
  }

  /** A parsed target URL. {@code host} has no IPv6 brackets; {@code authorityHost} is the host as written. */
  record Target(String scheme, String host, String authorityHost, int port, String requestUri) {
    boolean tcp() { return "tcp".equals(scheme); }
    @Override public String toString() {
      return scheme + "://" + authorityHost + ":" + port + (tcp() ? "" : requestUri);
    }
  }

  Plan validate() {
    Target t = parseTarget(target);
    boolean tcp = t.tcp();

    if (requests != null && duration != null) {
      throw new BenchUsageException("options --requests and --duration are mutually exclusive (give one of them)");
    }
    Duration maxDur = maxDuration != null ? maxDuration : DEFAULT_MAX_DURATION;
    checkDuration("--max-duration", maxDur, Duration.ofMillis(1), MAX_MAX_DURATION);
    long n = -1;
    if (duration != null) {
      checkDuration("--duration", duration, Duration.ofMillis(1), maxDur);
    } else {
      n = requests != null ? requests : DEFAULT_REQUESTS;
      checkInt("--requests", n, 1, MAX_REQUESTS);
    }
    Duration to = timeout != null ? timeout : DEFAULT_TIMEOUT;
    checkDuration("--timeout", to, Duration.ofMillis(1), MAX_TIMEOUT);
    Duration wu = warmup != null ? warmup : Duration.ZERO;
    checkDuration("--warmup", wu, Duration.ZERO, maxDur);
    double r = 0;
    if (rate != null) {
      r = rate;
      if (!(r > 0 && r <= MAX_RATE)) {
        throw invalid("--rate", Double.toString(r), "requests per second, > 0 and <= " + (long) MAX_RATE);
      }
    }
    if (concurrency != null) {
      checkInt("--concurrency", concurrency, 1, MAX_CONCURRENCY);
    }
    if (connections != null) {
      checkInt("--connections", connections, 1, MAX_CONNECTIONS);
    }
    if (pipeline != null) {
      checkInt("--pipeline", pipeline, 1, MAX_PIPELINE);
    }
    if (threads != null) {
      checkInt("--threads", threads, 1, MAX_THREADS);
    }

    int c, conns, depth;
    String m = null;
    String ln = null;
    if (tcp) {
      if (line == null) {
        throw new BenchUsageException("option --line is required for tcp:// targets (the line sent per request)");
      }
      if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
        throw invalid("--line", line, "a single line without CR/LF");
      }
      if (method != null || body != null || !headers.isEmpty() || !keepAlive) {
        throw new BenchUsageException("options --method, --body, --header and --no-keepalive apply to http:// targets only");
      }
      depth = pipeline != null ? pipeline : 1;
      conns = connections != null ? connections : (concurrency != null ? concurrency : DEFAULT_CONCURRENCY);
      long cap = (long) conns * depth;
      c = concurrency != null ? concurrency : (int) Math.min(cap, Integer.MAX_VALUE);
      ln = line;
    } else {
      if (line != null) {
        throw new BenchUsageException("option --line applies to tcp:// targets only");
      }
      m = method != null ? method.trim().toUpperCase(Locale.ROOT) : "GET";
      if (!TOKEN.matcher(m).matches()) {
        throw invalid("--method", method, "an HTTP method token such as GET, POST, PUT, DELETE");
      }
      for (Map.Entry<String, String> h : headers) {
        checkHeader(h.getKey(), h.getValue());
      }
      c = concurrency != null ? concurrency : DEFAULT_CONCURRENCY;
      depth = pipeline != null ? pipeline : 1;
      if (depth > 1 && !keepAlive) {
        throw new BenchUsageException("options --pipeline (HTTP pipelining) and --no-keepalive exclude each other");
      }
      // HTTP/1.1 pipelining (opt-in): D requests per connection, so ceil(c / D) connections carry c requests
      conns = connections != null ? connections : (c + depth - 1) / depth;
    }
    int cores = Runtime.getRuntime().availableProcessors();
    int th = threads != null ? threads : cores;
    // one worker per event loop; never more workers than connections or than requests in flight
    th = Math.max(1, Math.min(th, Math.min(c, conns)));
    return new Plan(t, m, body, List.copyOf(headers), c, conns, depth, n, duration, keepAlive, to, r, wu, maxDur,
      ln, th, allowRemote, progress);
  }

  // ------------------------------------------------------------------------------------------------------------
  // parsing helpers, shared by the command line and the API

  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|us|s|m|h)");
  private static final Pattern PLAIN_NUMBER = Pattern.compile("\\d+(?:\\.\\d+)?");

  static BenchUsageException invalid(String option, String value, String accepted) {
    return new BenchUsageException("invalid value for option '" + option + "': " + refused(value, accepted));
  }

  /** The value and what the option accepts, as every refusal quotes them. */
  static String refused(String value, String accepted) {
    return "'" + value + "' (accepted: " + accepted + ")";
  }

  static void checkInt(String option, long value, long min, long max) {
    if (value < min || value > max) {
      throw invalid(option, Long.toString(value), "an integer from " + min + " to " + max);
    }
  }

  static void checkDuration(String option, Duration d, Duration min, Duration max) {
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw invalid(option, formatDuration(d), "a duration from " + formatDuration(min) + " to " + formatDuration(max)
        + ", e.g. 500ms, 10s, 1m");
    }
  }

  static final String DURATION_ACCEPTED = "a duration such as 500ms, 10s, 1m, 1m30s (a bare number means seconds)";

  /** {@code 10s}, {@code 500ms}, {@code 1m}, {@code 1h}, {@code 1m30s}, {@code 1.5s}; a bare number means seconds. */
  static Duration parseDuration(String option, String text) {
    try {
      return duration(text);
    } catch (IllegalArgumentException e) {
      throw invalid(option, String.valueOf(text), DURATION_ACCEPTED);
    }
  }

  /** As {@link #parseDuration}, failing with IllegalArgumentException. */
  static Duration duration(String text) {
    String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (s.isEmpty()) {
      throw new IllegalArgumentException("no duration");
    }
    try {
      if (PLAIN_NUMBER.matcher(s).matches()) {
        return nanos(Double.parseDouble(s), 1_000_000_000d);
      }
      Matcher m = DURATION_PART.matcher(s);
      int pos = 0;
      long total = 0;
      while (pos < s.length()) {
        if (!m.find(pos) || m.start() != pos) {
          throw new IllegalArgumentException("not a duration");
        }
        double v = Double.parseDouble(m.group(1));
        double unit;
        switch (m.group(2)) {
          case "us": unit = 1_000d; break;
          case "ms": unit = 1_000_000d; break;
          case "s": unit = 1_000_000_000d; break;
          case "m": unit = 60_000_000_000d; break;
          default: unit = 3_600_000_000_000d; break;
        }
        total = Math.addExact(total, nanos(v, unit).toNanos());
        pos = m.end();
      }
      return Duration.ofNanos(total);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("too long a duration");
    }
  }

  private static Duration nanos(double value, double unitNanos) {
    double n = value * unitNanos;
    if (n > Long.MAX_VALUE) {
      throw new ArithmeticException("overflow");
    }
    return Duration.ofNanos(Math.round(n));
  }

  static String formatDuration(Duration d) {
    long ms = d.toMillis();
    if (d.isZero()) {
      return "0s";
    }
    if (ms == 0) {
      return d.toNanos() / 1000 + "us";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  /** {@code 'Name: value'}; IllegalArgumentException saying what it accepts. */
  static Map.Entry<String, String> parseHeader(String text) {
    int colon = text.indexOf(':');
    String name = colon <= 0 ? null : text.substring(0, colon).trim();
    String value = colon <= 0 ? null : text.substring(colon + 1).trim();
    if (!validHeader(name, value)) {
      throw new IllegalArgumentException(refused(text, HEADER_ACCEPTED));
    }
    return Map.entry(name, value);
  }

  private static final String HEADER_ACCEPTED = "'Name: value' with a token name and a value without CR/LF, e.g."
    + " 'Accept: application/json'";

  private static void checkHeader(String name, String value) {
    if (!validHeader(name, value)) {
      throw invalid("--header", name + ": " + value, HEADER_ACCEPTED);
    }
  }

  private static boolean validHeader(String name, String value) {
    return name != null && TOKEN.matcher(name).matches() && value != null && value.indexOf('\r') < 0
      && value.indexOf('\n') < 0;
  }

  /** A literal string, or {@code @path} to read the body from a file; IllegalArgumentException saying why not. */
  static byte[] parseBody(String text) {
    if (text.startsWith("@")) {
      Path p = Path.of(text.substring(1));
      try {
        return Files.readAllBytes(p);
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException(refused(text, "a string, or @file naming a readable file (no such file)"));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(refused(text, "a string, or @file naming a readable file ("
          + e.getMessage() + ")"));
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static Target parseTarget(String text) {
    String accepted = "http://host:port/path?query or tcp://host:port";
    if (text == null || text.isBlank()) {
      throw new BenchUsageException("missing target URL (accepted: " + accepted + ")");
    }
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw invalid("<target>", text, accepted);
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme == null || uri.isOpaque()) {
      throw invalid("<target>", text, accepted);
    }
    if (!scheme.equals("http") && !scheme.equals("tcp")) {
      throw new BenchUsageException("unsupported scheme '" + scheme + "' in target '" + text + "' (accepted: http, tcp)");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty() || uri.getUserInfo() != null) {
      throw invalid("<target>", text, accepted);
    }
    int port = uri.getPort();
    if (port == -1) {
      if (scheme.equals("tcp")) {
        throw invalid("<target>", text, "tcp://host:port (the port is required)");
      }
      port = 80;
    }
    if (port < 1 || port > 65535) {
      throw invalid("<target>", text, accepted + " with a port from 1 to 65535");
    }
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    String requestUri = null;
    if (scheme.equals("http")) {
      String path = uri.getRawPath();
      if (path == null || path.isEmpty()) {
        path = "/";
      }
      requestUri = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    } else if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
      || uri.getRawQuery() != null) {
      throw invalid("<target>", text, "tcp://host:port (no path or query)");
    }
    return new Target(scheme, bare, host, port, requestUri);
  }
}
