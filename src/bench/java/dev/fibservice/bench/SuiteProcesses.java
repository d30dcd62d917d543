package dev.fibservice.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The processes of the suite: service nodes, nginx, and the two load generators (the built-in tool and wrk). */
final class SuiteProcesses {

  private SuiteProcesses() {
  }

  /** The java launcher of this JVM: the service, the generator and the harness all run on the same JDK. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * One load run's numbers. {@code rps} is 0 for fixed-rate runs' non-throughput use; {@code serverCpuMicros} is the
   * server's CPU time (user + system, all its processes) per completed request, NaN when not measured.
   */
  record Sample(double rps, double p50Ms, double p99Ms, long errors, long completed, String detail,
                double serverCpuMicros) {
    Sample(double rps, double p50Ms, double p99Ms, long errors, long completed, String detail) {
      this(rps, p50Ms, p99Ms, errors, completed, detail, Double.NaN);
    }

    static Sample failed(String why) {
      return new Sample(Double.NaN, Double.NaN, Double.NaN, -1, 0, why);
    }

    Sample withServerCpu(double cpuSeconds) {
      return new Sample(rps, p50Ms, p99Ms, errors, completed, detail, completed > 0 ? cpuSeconds * 1e6 / completed : Double.NaN);
    }

    boolean ok() {
      return !Double.isNaN(rps);
    }
  }

  /** CPU time of a server's processes (a process and its children, e.g. nginx's workers) from /proc, in seconds. */
  static final class Cpu {
    private static final double TICKS_PER_SECOND = ticksPerSecond();

    private Cpu() {
    }

    static double seconds(ProcessHandle root) {
      if (root == null || !Files.isDirectory(Path.of("/proc"))) {
        return Double.NaN;
      }
      double ticks = ticks(root.pid());
      for (ProcessHandle child : root.descendants().toList()) {
        ticks += ticks(child.pid());
      }
      return ticks / TICKS_PER_SECOND;
    }

    /**
     * CPU time of this JVM, of what it runs now and of the children it has reaped (a generator that exited: fields 16
     * and 17 of /proc/self/stat), in seconds: all the harness has spent.
     */
    static double harness() {
      double reaped = 0;
      try {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        reaped = Long.parseLong(f[13]) + Long.parseLong(f[14]);
      } catch (IOException | RuntimeException e) {
        return Double.NaN;
      }
      return seconds(ProcessHandle.current()) + reaped / TICKS_PER_SECOND;
    }

    /** CPU time the whole machine has been busy, every core and every process (the first line of /proc/stat). */
    static double machine() {
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        // user nice system idle iowait irq softirq steal: all but idle and iowait
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
          busy += Long.parseLong(f[i]);
        }
        return busy / TICKS_PER_SECOND;
      } catch (IOException | RuntimeException e) {
        return Double.NaN;
      }
    }

    /** utime + stime of /proc/pid/stat (fields 14 and 15, counted after the parenthesised command name). */
    private static double ticks(long pid) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
      } catch (IOException | RuntimeException e) {
        return 0; // the process has gone: its share is no longer counted
      }
    }

    private static double ticksPerSecond() {
      String t = exec(Duration.ofSeconds(5), "getconf", "CLK_TCK");
      try {
        return t == null ? 100 : Double.parseDouble(t.trim());
      } catch (NumberFormatException e) {
        return 100;
      }
    }
  }

  /** What to send: an http:// or tcp:// URL, in flight at once, keep-alive, and an optional fixed rate. */
  record Load(String url, int concurrency, boolean keepAlive, Double rate, Duration timeout) {
    static Load http(String url, int c, boolean keepAlive) {
      return new Load(url, c, keepAlive, null, null);
    }

    static Load tcp(String url, int connections) {
      return new Load(url, connections, true, null, null);
    }

    Load atRate(double perSecond) {
      return new Load(url, concurrency, keepAlive, perSecond, timeout);
    }

    Load withTimeout(Duration t) {
      return new Load(url, concurrency, keepAlive, rate, t);
    }

    boolean isTcp() {
      return url.startsWith("tcp://");
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  // ----------------------------------------------------------------------------------------------------------------

  /** A server process of the suite on its own loopback port, stopped by close. */
  abstract static class LocalServer implements AutoCloseable {
    final Process process;
    final int port;

    LocalServer(Process process, int port) {
      this.process = process;
      this.port = port;
    }

    String http(String pathAndQuery) {
      return "http://127.0.0.1:" + port + pathAndQuery;
    }

    /** SIGTERM (nginx's master then stops its workers), SIGKILL after 10 s. */
    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroy();
        try {
          if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * nginx as the reference server, at its strongest for a fixed page: a non-daemon master with its own prefix and
   * config in a temp dir, 2 workers, no access log, keep-alive never closed by nginx. {@code /hello} is answered from
   * memory ({@code return 200} with the page's exact bytes and Content-Type, as the service does); the file-serving
   * configuration ({@code try_files}, sendfile) stays beside it at {@code /file/hello}, with
   * {@code /file/hello?repeat=10000} for the 220 KB page.
   */
  static final class Nginx extends LocalServer {
    final String version;

    private Nginx(Process process, int port, String version) {
      super(process, port);
      this.version = version;
    }

    static String version() {
      String v = exec(Duration.ofSeconds(10), "nginx", "-v");
      return v == null ? null : v.trim().replace("nginx version: ", "");
    }

    /** The page as an nginx string literal; nginx would expand a {@code $}, which has no escape there. */
    static String literal(byte[] page) {
      String s = new String(page, StandardCharsets.UTF_8);
      if (s.indexOf('$') >= 0) {
        throw new IllegalArgumentException("the page contains '$', which nginx's return would expand");
      }
      return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r")
        .replace("\t", "\\t") + "\"";
    }

    /** Starts nginx; the pages are passed in so they are byte for byte what the service serves. */
    static Nginx start(Path dir, byte[] hello, String contentType, byte[] hello10000, int workers)
      throws IOException, InterruptedException {
      String version = version();
      if (version == null) {
        return null;
      }
      Path www = Files.createDirectories(dir.resolve("www"));
      Files.createDirectories(dir.resolve("tmp"));
      Files.write(www.resolve("hello.html"), hello);
      Files.write(www.resolve("hello-10000.html"), hello10000);
      // when the suite runs as root, the workers run as nobody: they must be able to read the pages
      for (Path p : List.of(dir, www, dir.resolve("tmp"))) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
      for (Path p : List.of(www.resolve("hello.html"), www.resolve("hello-10000.html"))) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
      }
      int port = freePort();
      String d = dir.toAbsolutePath().toString();
      String conf = String.join("\n", prelude(d, workers),
        "  map $arg_repeat $hello_file { default /hello.html; 10000 /hello-10000.html; }",
        "  server {",
        "    listen 127.0.0.1:" + port + " reuseport backlog=4096;",
        "    root " + d + "/www;",
        "    location = /hello {",
        "      default_type \"" + contentType + "\";",
        "      return 200 " + literal(hello) + ";",
        "    }",
        "    location = /file/hello {",
        "      types { }",
        "      default_type \"" + contentType + "\";",
        "      try_files $hello_file =404;",
        "    }",
        "  }",
        "}",
        "");
      return launch(dir, conf, port, version);
    }

    /**
     * nginx as the standard answer to repeated heavy requests: a caching reverse proxy ({@code proxy_cache} on disk,
     * {@code proxy_cache_lock} so that concurrent misses of one URL make one upstream request) in front of the service
     * at {@code upstreamPort}, over kept-alive upstream connections. It keeps what the service's Cache-Control allows
     * (a year) and one variant per Accept (the service's Vary).
     */
    static Nginx cachingProxy(Path dir, int upstreamPort, int workers) throws IOException, InterruptedException {
      String version = version();
      if (version == null) {
        return null;
      }
      Path cache = Files.createDirectories(dir.resolve("cache"));
      Files.createDirectories(dir.resolve("tmp"));
      // when the suite runs as root, the workers run as nobody: they write the cache and the proxy's buffers
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      for (Path p : List.of(cache, dir.resolve("tmp"))) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
      }
      int port = freePort();
      String d = dir.toAbsolutePath().toString();
      String conf = String.join("\n", prelude(d, workers),
        "  proxy_cache_path " + d + "/cache levels=1:2 keys_zone=fib:16m max_size=1g inactive=1h use_temp_path=off;",
        "  upstream fib { server 127.0.0.1:" + upstreamPort + "; keepalive 64; }",
        "  server {",
        "    listen 127.0.0.1:" + port + " reuseport backlog=4096;",
        "    location / {",
        "      proxy_pass http://fib;",
        "      proxy_http_version 1.1;",
        "      proxy_set_header Connection \"\";",
        "      proxy_cache fib;",
        "      proxy_cache_lock on;",
        "      proxy_cache_lock_age 60s;",
        "      proxy_cache_lock_timeout 60s;",
        "      proxy_read_timeout 60s;",
        "    }",
        "  }",
        "}",
        "");
      return launch(dir, conf, port, version);
    }

    /** The configuration both kinds share, up to the inside of {@code http { }}: one process tree in {@code d}. */
    private static String prelude(String d, int workers) {
      return String.join("\n",
        "daemon off;",
        "worker_processes " + workers + ";",
        "pid " + d + "/nginx.pid;",
        "error_log " + d + "/error.log warn;",
        "events { worker_connections 8192; }",
        "http {",
        "  access_log off;",
        "  sendfile on;",
        "  tcp_nopush on;",
        // the service never closes a keep-alive connection on its own; nginx's default does after 1000 requests
        "  keepalive_requests 100000000;",
        "  client_body_temp_path " + d + "/tmp/body;",
        "  proxy_temp_path " + d + "/tmp/proxy;",
        "  fastcgi_temp_path " + d + "/tmp/fastcgi;",
        "  uwsgi_temp_path " + d + "/tmp/uwsgi;",
        "  scgi_temp_path " + d + "/tmp/scgi;");
    }

    private static Nginx launch(Path dir, String conf, int port, String version)
      throws IOException, InterruptedException {
      String d = dir.toAbsolutePath().toString();
      Path confFile = dir.resolve("nginx.conf");
      Files.writeString(confFile, conf);
      Process p = new ProcessBuilder("nginx", "-p", d, "-c", confFile.toAbsolutePath().toString(), "-e", d + "/error.log")
        .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
      if (!awaitListening(p, port, dir.resolve("error.log"))) {
        p.destroy();
        throw new IOException("nginx did not listen on port " + port + " within 10 s");
      }
      return new Nginx(p, port, version);
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  /** Waits (at most 10 s) until {@code p} listens on {@code port}; an exit is an IOException quoting its log. */
  static boolean awaitListening(Process p, int port, Path log) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IOException(p.info().command().orElse("peer") + " exited with " + p.exitValue() + ": "
          + (Files.exists(log) ? tail(Files.readString(log), 3) : ""));
      }
      if (canConnect(port)) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  /** Debian's own interpreter, which the peers under bench/peers are written for; null when absent. */
  static String debianPython() {
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : null;
  }

  /** A peer server of {@code bench/peers/} (Python or compiled C) on its own loopback port; stopped by close. */
  static final class Peer extends LocalServer {
    final String name;

    private Peer(String name, Process process, int port) {
      super(process, port);
      this.name = name;
    }

    /** Starts {@code command} with its port appended where {@code {port}} stands. */
    static Peer start(String name, Path logDir, List<String> command) throws IOException, InterruptedException {
      int port = freePort();
      List<String> cmd = command.stream().map(a -> a.replace("{port}", Integer.toString(port))).toList();
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name.replaceAll("[^A-Za-z0-9]+", "-") + ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!awaitListening(p, port, log)) {
        p.destroyForcibly();
        throw new IOException(name + " did not listen on port " + port + " within 10 s");
      }
      return new Peer(name, p, port);
    }
  }

  /**
   * The C line responder of {@code bench/peers/line_responder.c}, compiled with {@code cc} into {@code work}; null
   * (with the reason in {@code why[0]}) when there is no compiler or it fails.
   */
  static Path compileLineResponder(Path peers, Path work, String[] why) {
    if (exec(Duration.ofSeconds(10), "cc", "--version") == null) {
      why[0] = "no C compiler (`cc`) on this machine";
      return null;
    }
    Path bin = work.resolve("line_responder");
    String out = exec(Duration.ofSeconds(60), "cc", "-O2", "-o", bin.toString(),
      peers.resolve("line_responder.c").toString());
    if (out == null || !Files.isExecutable(bin)) {
      why[0] = "`cc` could not compile bench/peers/line_responder.c";
      return null;
    }
    return bin;
  }

  /**
   * bench/peers/perf.py: one connection, sequential round trips of {@code 1\\n} for {@code seconds}; the rate as the
   * Sample's req/s (no latency percentiles: the client only counts).
   */
  static Sample perfPy(Path peers, int port, Duration seconds) {
    String out = exec(seconds.plusSeconds(30), debianPython(), peers.resolve("perf.py").toString(), "127.0.0.1",
      Integer.toString(port), Long.toString(seconds.toSeconds()), "100000000");
    if (out == null) {
      return Sample.failed("perf.py failed");
    }
    try {
      JsonObject j = new JsonObject(out.strip().lines().reduce((a, b) -> b).orElse(""));
      double rps = j.getDouble("perSecond");
      return new Sample(rps, rps > 0 ? 1e3 / rps : Double.NaN, Double.NaN, j.getLong("errors"), j.getLong("count"),
        j.getLong("errors") == 0 ? "" : "error replies " + j.getLong("errors"));
    } catch (RuntimeException e) {
      return Sample.failed("perf.py output not understood: " + tail(out, 2));
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  /** The built-in load tool, as its own JVM ({@code java -jar fib-service.jar bench ... --json}). */
  static final class BenchTool {
    private final Path jar;
    private final Path scratch;

    BenchTool(Path jar, Path scratch) {
      this.jar = jar;
      this.scratch = scratch;
    }

    List<String> command(Load load, Duration duration, Duration warmup) {
      List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar.toString(), "bench", load.url(),
        "-c", Integer.toString(load.concurrency()),
        "-d", duration.toMillis() + "ms",
        "--warmup", warmup.toMillis() + "ms",
        "--max-duration", duration.plus(warmup).plusSeconds(60).toMillis() + "ms",
        "--threads", "1", "--json", "-q"));
      if (load.isTcp()) {
        cmd.addAll(List.of("--line", "1"));
      } else if (!load.keepAlive()) {
        cmd.add("--no-keepalive");
      }
      if (load.rate() != null) {
        cmd.addAll(List.of("--rate", String.format(Locale.ROOT, "%.0f", load.rate())));
      }
      if (load.timeout() != null) {
        cmd.addAll(List.of("--timeout", load.timeout().toMillis() + "ms"));
      }
      return cmd;
    }

    /** Starts a run in the background; {@link #finish} collects it. */
    Running start(Load load, Duration duration, Duration warmup) throws IOException {
      Path out = Files.createTempFile(scratch, "bench-", ".json");
      Path err = Files.createTempFile(scratch, "bench-", ".err");
      Process p = new ProcessBuilder(command(load, duration, warmup))
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      return new Running(p, out, err, duration.plus(warmup).plusSeconds(90));
    }

    Sample run(Load load, Duration duration, Duration warmup) throws IOException, InterruptedException {
      return finish(start(load, duration, warmup));
    }

    record Running(Process process, Path out, Path err, Duration max) {
    }

    static Sample finish(Running r) throws IOException, InterruptedException {
      if (!r.process().waitFor(r.max().toSeconds(), TimeUnit.SECONDS)) {
        r.process().destroyForcibly();
        return Sample.failed("generator did not finish within " + r.max().toSeconds() + " s");
      }
      String out = Files.readString(r.out()).trim();
      String err = Files.readString(r.err()).trim();
      Files.deleteIfExists(r.out());
      Files.deleteIfExists(r.err());
      if (!out.startsWith("{")) {
        return Sample.failed("bench exit " + r.process().exitValue() + ": " + tail(err, 2));
      }
      JsonObject j = new JsonObject(out);
      long errors = 0;
      for (String k : j.getJsonObject("errors").fieldNames()) {
        errors += j.getJsonObject("errors").getLong(k);
      }
      JsonObject lat = j.getJsonObject("latencyMicros");
      return new Sample(j.getDouble("requestsPerSecond"), lat.getLong("p50") / 1e3, lat.getLong("p99") / 1e3, errors,
        j.getLong("completed"), errors == 0 ? "" : j.getJsonObject("errors").encode());
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  /** wrk, the second and independent generator (HTTP only; per-connection mode by {@code Connection: close}). */
  static final class Wrk {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern P50 = Pattern.compile("\\s50%\\s+([\\d.]+)(us|ms|s)\\b");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([\\d.]+)(us|ms|s)\\b");
    private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern SOCKET = Pattern.compile(
      "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    final String version;
    private final int threads;

    private Wrk(String version, int threads) {
      this.version = version;
      this.threads = threads;
    }

    static Wrk find(int threads) {
      String v = exec(Duration.ofSeconds(10), "wrk", "-v");
      if (v == null) {
        return null;
      }
      Matcher m = Pattern.compile("wrk (\\S+)").matcher(v);
      return new Wrk(m.find() ? m.group(1) : "?", threads);
    }

    Sample run(Load load, Duration duration) throws IOException, InterruptedException {
      return run(load, duration, List.of());
    }

    /** A run with more of wrk's options ({@code -s script.lua}, {@code -H header}) before the URL. */
    Sample run(Load load, Duration duration, List<String> options) throws IOException, InterruptedException {
      List<String> cmd = new ArrayList<>(List.of("wrk", "-t", Integer.toString(Math.min(threads, load.concurrency())),
        "-c", Integer.toString(load.concurrency()), "-d", duration.toSeconds() + "s", "--latency", "--timeout", "10s"));
      if (!load.keepAlive()) {
        // wrk opens a new connection after the server closes one: the per-connection ("ab without -k") mode
        cmd.addAll(List.of("-H", "Connection: close"));
      }
      cmd.addAll(options);
      cmd.add(load.url());
      String out = exec(duration.plusSeconds(30), cmd.toArray(String[]::new));
      if (out == null) {
        return Sample.failed("wrk failed");
      }
      Matcher rps = RPS.matcher(out);
      Matcher p50 = P50.matcher(out);
      Matcher p99 = P99.matcher(out);
      if (!rps.find() || !p50.find() || !p99.find()) {
        return Sample.failed("wrk output not understood: " + tail(out, 3));
      }
      long errors = 0;
      StringBuilder detail = new StringBuilder();
      Matcher non2xx = NON2XX.matcher(out);
      if (non2xx.find()) {
        errors += Long.parseLong(non2xx.group(1));
        detail.append("non-2xx ").append(non2xx.group(1)).append(' ');
      }
      Matcher sock = SOCKET.matcher(out);
      if (sock.find()) {
        for (int i = 1; i <= 4; i++) {
          errors += Long.parseLong(sock.group(i));
        }
        detail.append(sock.group(0));
      }
      Matcher reqs = REQUESTS.matcher(out);
      long completed = reqs.find() ? Long.parseLong(reqs.group(1)) : 0;
      return new Sample(Double.parseDouble(rps.group(1)), millis(p50), millis(p99), errors, completed,
        detail.toString().trim());
    }

    private static double millis(Matcher m) {
      double v = Double.parseDouble(m.group(1));
      return switch (m.group(2)) {
        case "us" -> v / 1e3;
        case "s" -> v * 1e3;
        default -> v;
      };
    }
  }

  // ----------------------------------------------------------------------------------------------------------------

  /** Runs a short command and returns its merged output, or null when it cannot run or fails. */
  static String exec(Duration max, String... cmd) {
    try {
      Path out = Files.createTempFile("fib-bench-", ".out");
      try {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          return null;
        }
        String s = Files.readString(out, StandardCharsets.UTF_8);
        // wrk -v exits with 1 after printing its version
        return p.exitValue() == 0 || cmd[cmd.length - 1].equals("-v") ? s : null;
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  static boolean canConnect(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String tail(String s, int lines) {
    String[] all = s.strip().split("\n");
    StringBuilder sb = new StringBuilder();
    for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
      sb.append(all[i].strip()).append(i < all.length - 1 ? " | " : "");
    }
    return sb.toString();
  }
}
