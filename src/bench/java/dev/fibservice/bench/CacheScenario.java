package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import dev.fibservice.bench.SuiteProcesses.Load;
import dev.fibservice.bench.SuiteProcesses.Nginx;
import dev.fibservice.bench.SuiteProcesses.Sample;
import dev.fibservice.math.BigFibonacciBench;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Identical heavy requests, computed once: the scenarios of the result cache and the shared computations, each on
 * fresh nodes of its own (no database), side by side in alternating rounds.
 * <ul>
 *   <li>{@code coalesce}: 100 concurrent identical {@code HEAD /fib/n} for a fresh n near 10^7 (the computation without
 *       a 2 MB body to move), against one request's time for another fresh n, and the computations counted by the
 *       node's own metric; on a node with the defaults, and once on a node with both switches off.</li>
 *   <li>{@code zipf}: 32 connections asking F(n) for n drawn Zipf (s = 1) from 16 values between 10^6 and 10^7, wrk with
 *       a Lua script: the service alone against nginx with {@code proxy_cache} and {@code proxy_cache_lock} in front of
 *       a cache-less service (the standard answer); every body checked by hash first (and against GMP's).</li>
 *   <li>both also measure warm F(10^6) and F(10^7) over HTTP with the cache on (a hit) and off (computed), and the
 *       first F(10^6) of a fresh node, GMP beside them.</li>
 * </ul>
 */
final class CacheScenario implements AutoCloseable {

  private static final Pattern DOUBLINGS =
    Pattern.compile("(?m)^fib_compute_seconds_count\\{algorithm=\"doubling\",?\\} ([0-9.eE+]+)$");
  private static final List<String> NO_DATABASE = List.of("--set", "mysql.host=off");
  /** Both switches off, and deadlines long enough for 100 computations of F(10^7) in a row on two cores. */
  private static final List<String> CACHE_OFF = List.of("--set", "mysql.host=off", "--set", "fib.singleFlight=false",
    "--set", "fib.cacheBytes=0", "--set", "fib.timeoutMs=600000", "--set", "sockjs.replyTimeoutMs=605000");
  static final int BURST = 100;
  static final int ZIPF_CONNECTIONS = 32;

  private final BenchSuite suite;
  private final SuiteReport report;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(10)).build();
  private final List<AutoCloseable> open = new ArrayList<>();
  /** Fresh n near 10^7, never asked before: counting down from it. */
  private int fresh = 9_999_999;

  CacheScenario(BenchSuite suite) {
    this.suite = suite;
    this.report = suite.report;
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

  private ServiceProcess node(String name, List<String> args) throws Exception {
    ServiceProcess node = suite.startNode(name, args);
    if (node == null) {
      throw new IllegalStateException("node " + name + " did not start; see " + suite.work.resolve("logs"));
    }
    open.add(node);
    if (!report.hasServiceInfo()) {
      report.serviceInfo(BenchSuite.fetch(BenchSuite.http(node, "/info")));
    }
    return node;
  }

  private static void stop(ServiceProcess node) {
    try {
      node.close();
    } catch (Exception ignore) {
      // best effort
    }
  }

  // ---- coalesce ----------------------------------------------------------------------------------------------------

  /** One round of a node: one request's time, then the burst's, for fresh n each. */
  private record Burst(String node, int round, int singleN, double singleMs, int burstN, double burstMs, int ok,
                       long computations, double lightMs) {
    double ratio() {
      return burstMs / singleMs;
    }
  }

  void coalesce() throws Exception {
    ServiceProcess on = node("coalesce-on", NO_DATABASE);
    ServiceProcess off = node("coalesce-off", CACHE_OFF);
    // each path once for a size like the measured ones, then bursts of a light n (cheap on both nodes): class loading,
    // the JIT and the client's connections (kept in its pool, so a burst measures requests, not handshakes) are not
    // what is measured
    for (ServiceProcess n : List.of(on, off)) {
      head(n, 9_000_000 + (n == on ? 0 : 1));
      for (int i = 0; i < 10; i++) {
        concurrently(n, 1000);
      }
    }
    List<Burst> bursts = new ArrayList<>();
    String loadBefore = SuiteReport.loadAverage();
    for (int r = 0; r < suite.rounds; r++) {
      bursts.add(burst("defaults", on, r));
      // both switches off: 100 computations, over a minute of both cores; once, in the middle
      if (r == Math.min(1, suite.rounds - 1)) {
        bursts.add(burst("singleFlight off, cacheBytes 0", off, r));
      }
    }
    String loadAfter = SuiteReport.loadAverage();
    stop(on);
    stop(off);
    StringBuilder md = new StringBuilder("`HEAD /fib/n` with `Accept: text/plain`, each n fresh (never asked before),"
      + " near 10^7 (2.09 million digits): one request alone, then " + BURST + " concurrent identical requests for"
      + " another n (" + BURST + " connections of java.net.http, all sent at once; the time to the last answer)."
      + " The client's connections are open and the paths warm before (bursts of a light n); the last column is the"
      + " same burst for n = 1000 (computed in microseconds): what " + BURST + " requests at once cost here without the"
      + " computation. Computations: the node's `fib_compute_seconds_count{algorithm=\"doubling\"}` before and after"
      + " the burst."
      + " Load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter + ".\n\n"
      + "| node | round | one request: n, ms | " + BURST + " concurrent: n, ms to the last | burst / one | answered 200"
      + " | computations | " + BURST + " concurrent, n = 1000, ms |\n|---|---:|---|---|---:|---:|---:|---:|\n");
    JsonArray raw = new JsonArray();
    for (Burst b : bursts) {
      md.append(String.format(Locale.ROOT, "| %s | %d | %,d: %s | %,d: %s | %.2f× | %d of %d | %d | %s |%n", b.node(),
        b.round() + 1, b.singleN(), SuiteReport.ms(b.singleMs()), b.burstN(), SuiteReport.ms(b.burstMs()), b.ratio(),
        b.ok(), BURST, b.computations(), SuiteReport.ms(b.lightMs())));
      raw.add(new JsonObject().put("node", b.node()).put("round", b.round() + 1).put("singleN", b.singleN())
        .put("singleMs", b.singleMs()).put("burstN", b.burstN()).put("burstMs", b.burstMs()).put("ok", b.ok())
        .put("computations", b.computations()).put("lightBurstMs", b.lightMs()));
    }
    report.section("Identical heavy requests at once (" + BURST + " × `HEAD /fib/n`, n near 10^7)", md.toString(),
      "coalesce", raw);
    List<Burst> defaults = bursts.stream().filter(b -> b.node().equals("defaults")).toList();
    double ratio = SuiteReport.median(defaults.stream().mapToDouble(Burst::ratio).toArray());
    boolean once = defaults.stream().allMatch(b -> b.computations() == 1 && b.ok() == BURST);
    report.target(BURST + " concurrent identical `HEAD /fib/n`, fresh n near 10^7: all answered within 2× one request's"
      + " time, one computation", String.format(Locale.ROOT, "%.2f× (median of %d rounds), computations per burst: %s",
      ratio, defaults.size(), defaults.stream().map(b -> String.valueOf(b.computations())).toList()),
      ratio <= 2.0 && once);
  }

  private Burst burst(String name, ServiceProcess node, int round) throws Exception {
    int singleN = fresh--;
    long t0 = System.nanoTime();
    int status = head(node, singleN);
    double singleMs = (System.nanoTime() - t0) / 1e6;
    if (status != 200) {
      throw new IllegalStateException("HEAD /fib/" + singleN + ": " + status);
    }
    int burstN = fresh--;
    double before = doublingsComputed(node);
    long t1 = System.nanoTime();
    int ok = concurrently(node, burstN);
    double burstMs = (System.nanoTime() - t1) / 1e6;
    long computations = Math.round(doublingsComputed(node) - before);
    // the same burst for a light n, computed in microseconds: what 100 requests at once cost without the computation
    long t2 = System.nanoTime();
    concurrently(node, 1000);
    double lightMs = (System.nanoTime() - t2) / 1e6;
    Burst b = new Burst(name, round, singleN, singleMs, burstN, burstMs, ok, computations, lightMs);
    System.out.printf(Locale.ROOT, "   coalesce %-32s round %d: one %.0f ms, %d concurrent %.0f ms (%.2f×), %d ok,"
      + " %d computations; %d concurrent of a light n %.0f ms%n", name, round + 1, singleMs, BURST, burstMs, b.ratio(),
      ok, computations, BURST, lightMs);
    return b;
  }

  /** {@link #BURST} identical HEAD requests at once; how many were answered 200. */
  private int concurrently(ServiceProcess node, int n) {
    List<CompletableFuture<HttpResponse<Void>>> all = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      all.add(client.sendAsync(headRequest(node, n), HttpResponse.BodyHandlers.discarding()));
    }
    int ok = 0;
    for (CompletableFuture<HttpResponse<Void>> f : all) {
      ok += f.join().statusCode() == 200 ? 1 : 0;
    }
    return ok;
  }

  private static HttpRequest headRequest(ServiceProcess node, int n) {
    return HttpRequest.newBuilder(URI.create(BenchSuite.http(node, "/fib/" + n))).method("HEAD",
      HttpRequest.BodyPublishers.noBody()).header("Accept", "text/plain").timeout(Duration.ofMinutes(10)).build();
  }

  private int head(ServiceProcess node, int n) throws Exception {
    return client.send(headRequest(node, n), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private double doublingsComputed(ServiceProcess node) throws Exception {
    Matcher m = DOUBLINGS.matcher(BenchSuite.fetch(BenchSuite.http(node, "/metrics")));
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  // ---- zipf --------------------------------------------------------------------------------------------------------

  /** 16 values from 10^6 to 10^7, evenly spaced in log, in a fixed random order of popularity (most asked first). */
  static List<Integer> zipfValues() {
    List<Integer> values = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      values.add((int) Math.round(Math.pow(10, 6 + i / 15.0)));
    }
    Collections.shuffle(values, new Random(2026));
    return values;
  }

  /**
   * wrk's script: each request's path drawn Zipf (s = 1) over {@code values} in order, from a fixed seed. The requests
   * are made in init(), once wrk has added the Host header (one made at load time has none: a 400 everywhere).
   */
  static String zipfScript(List<Integer> values) {
    StringBuilder s = new StringBuilder("wrk.headers[\"Accept\"] = \"text/plain\"\nlocal paths = {}\n"
      + "local cumulative = {}\nlocal requests = {}\nlocal total = 0\n");
    for (int i = 0; i < values.size(); i++) {
      s.append(String.format(Locale.ROOT, "total = total + 1 / %d%n", i + 1));
      s.append(String.format(Locale.ROOT, "cumulative[%d] = total%n", i + 1));
      s.append(String.format(Locale.ROOT, "paths[%d] = \"/fib/%d\"%n", i + 1, values.get(i)));
    }
    s.append("function init(args)\n"
      + "  for i, path in ipairs(paths) do requests[i] = wrk.format(nil, path) end\n"
      + "  math.randomseed(2026)\n"
      + "end\n"
      + "request = function()\n"
      + "  local r = math.random() * total\n"
      + "  for i = 1, #cumulative do\n"
      + "    if r <= cumulative[i] then return requests[i] end\n"
      + "  end\n"
      + "  return requests[#requests]\n"
      + "end\n");
    return s.toString();
  }

  void zipf() throws Exception {
    if (suite.wrk == null) {
      report.note("Scenario `zipf` skipped: it draws its paths with a wrk Lua script, and wrk is not installed.");
      return;
    }
    ServiceProcess service = node("zipf-service", NO_DATABASE);
    ServiceProcess upstream = node("zipf-upstream", CACHE_OFF);
    Path dir = Files.createTempDirectory("fib-bench-nginx-cache-");
    Nginx nginx = Nginx.cachingProxy(dir, upstream.httpPort(), suite.cores);
    if (nginx == null) {
      report.note("Scenario `zipf` skipped: nginx is not installed (`make bench` installs it with apt when run as root).");
      return;
    }
    open.add(nginx);
    List<Integer> values = zipfValues();
    // every body, by hash: the service's, nginx's (from the cache-less upstream through its cache) and GMP's
    StringBuilder hashes = new StringBuilder();
    boolean same = true;
    try (BigFibonacciBench.Gmp gmp = BigFibonacciBench.Gmp.start()) {
      for (int n : values) {
        String ours = sha256(text(BenchSuite.http(service, "/fib/" + n)));
        String theirs = sha256(text(nginx.http("/fib/" + n)));
        String[] g = gmp == null ? null : gmp.run(n);
        boolean agree = ours.equals(theirs) && (g == null || g[2].equals(ours));
        same &= agree;
        hashes.append(String.format(Locale.ROOT, "F(%,d) %s%s; ", n, ours.substring(0, 16), agree ? "" : " DIFFERS"));
      }
    }
    if (!same) {
      throw new IllegalStateException("the bodies differ: " + hashes);
    }
    Path script = suite.work.resolve("zipf.lua");
    Files.writeString(script, zipfScript(values));
    String label = "F(n), n Zipf over 16 values 10^6..10^7, text/plain, c=" + ZIPF_CONNECTIONS;
    String nginxName = "nginx proxy_cache + fib-service (cache off)";
    // the JIT settles over the first seconds of load (measured: the first 5 s run of a fresh node at a quarter of the
    // later ones); nginx gets the same run
    Duration jit = Duration.ofSeconds(Long.getLong("bench.jitSeconds", 10));
    for (String url : List.of(BenchSuite.http(service, "/"), nginx.http("/"))) {
      suite.wrk.run(Load.http(url, ZIPF_CONNECTIONS, true), jit, List.of("-s", script.toString()));
    }
    String loadBefore = SuiteReport.loadAverage();
    // each round's pair: this machine is shared, and one round's ratio says more than two medians taken apart
    List<double[]> pairs = new ArrayList<>();
    for (int r = 0; r < suite.rounds; r++) {
      double[] pair = new double[4];
      pairs.add(pair);
      List<String[]> order = new ArrayList<>(List.of(new String[] {"fib-service", BenchSuite.http(service, "/")},
        new String[] {nginxName, nginx.http("/")}));
      Collections.rotate(order, -r);
      for (String[] target : order) {
        // the server's CPU per request: the service's JVM, or nginx's master and workers (the upstream idles: all hits)
        ProcessHandle process = target[0].equals(nginxName) ? nginx.process.toHandle()
          : ProcessHandle.of(service.pid()).orElse(null);
        double cpu0 = SuiteProcesses.Cpu.seconds(process);
        Sample s = suite.wrk.run(Load.http(target[1], ZIPF_CONNECTIONS, true), suite.seconds,
          List.of("-s", script.toString()));
        s = s.withServerCpu(SuiteProcesses.Cpu.seconds(process) - cpu0);
        System.out.printf(Locale.ROOT, "   Z    %-62s %-44s %8.0f req/s  p99 %8.2f ms%s%n", label, target[0], s.rps(),
          s.p99Ms(), s.errors() == 0 ? "" : "  errors " + s.errors() + " " + s.detail());
        report.add("Z", label, target[0], "wrk", s);
        int at = target[0].equals(nginxName) ? 2 : 0;
        pair[at] = s.rps();
        pair[at + 1] = s.serverCpuMicros();
      }
    }
    StringBuilder rounds = new StringBuilder();
    for (double[] pair : pairs) {
      rounds.append(String.format(Locale.ROOT, "%s%.2f× (CPU %.0f vs %.0f µs/req)", rounds.length() == 0 ? "" : ", ",
        pair[0] / pair[2], pair[1], pair[3]));
    }
    double rpsRatio = SuiteReport.median(pairs.stream().mapToDouble(p -> p[0] / p[2]).toArray());
    double cpuRatio = SuiteReport.median(pairs.stream().mapToDouble(p -> p[3] / p[1]).toArray());
    String loadAfter = SuiteReport.loadAverage();
    long ourComputations = Math.round(doublingsComputed(service));
    long upstreamComputations = Math.round(doublingsComputed(upstream));
    report.target(report.versusWrk("heavy repeated mix (c=32, F(n) for n Zipf over 16 values 10^6..10^7): ≥ 1.0×"
      + " nginx proxy_cache + proxy_cache_lock in front of a cache-less fib-service", "Z", "fib-service", nginxName,
      1.0));
    report.note(String.format(Locale.ROOT, "Zipf mix (Z), round by round, fib-service / nginx in req/s: %s; the"
      + " median of these ratios %.2f×; nginx's CPU per request / fib-service's, median of the rounds: %.2f×.",
      rounds, rpsRatio, cpuRatio));
    report.note(String.format(Locale.ROOT, "Zipf mix (Z): values in order of popularity %s; wrk -t1 -c%d with a Lua"
      + " script drawing each path (s = 1, fixed seed), %d rounds alternating which server goes first. Same digits"
      + " from both, and from GMP, by SHA-256: %s Computations of F(n) over the whole scenario: fib-service %d, the"
      + " upstream behind nginx %d (16 values). Both had a %d s run of the same load first (discarded). nginx %s, %d"
      + " workers, `proxy_cache` on disk (page cache) with"
      + " `proxy_cache_lock`, upstream keepalive 64. Load average before: %s, after: %s.", values, ZIPF_CONNECTIONS,
      suite.rounds, hashes, ourComputations, upstreamComputations, jit.toSeconds(), nginx.version, suite.cores,
      loadBefore, loadAfter));
    warm(service, upstream);
  }

  // ---- warm and cold F(10^6), F(10^7) ------------------------------------------------------------------------------

  /** Warm F(10^6), F(10^7) over HTTP, cache on (hits) and off (computed each time); the cold first F(10^6). */
  private void warm(ServiceProcess on, ServiceProcess off) throws Exception {
    StringBuilder md = new StringBuilder("`GET /fib/n` with `Accept: text/plain` from java.net.http, time to the last"
      + " byte, median of the runs after one warm-up run; GMP: gmpy2.fib(n).digits() in Python.\n\n"
      + "| n | cache on (a hit) ms | cache off (computed) ms | GMP ms | on / GMP | off / GMP |\n"
      + "|---:|---:|---:|---:|---:|---:|\n");
    JsonArray raw = new JsonArray();
    try (BigFibonacciBench.Gmp gmp = BigFibonacciBench.Gmp.start()) {
      for (int n : new int[] {1_000_000, 10_000_000}) {
        int reps = n >= 10_000_000 ? 3 : 5;
        double[] onMs = new double[reps];
        double[] offMs = new double[reps];
        double[] gmpMs = new double[reps];
        for (int i = -1; i < reps; i++) {
          double a = timed(BenchSuite.http(on, "/fib/" + n));
          double b = timed(BenchSuite.http(off, "/fib/" + n));
          String[] g = gmp == null ? null : gmp.run(n);
          if (i >= 0) {
            onMs[i] = a;
            offMs[i] = b;
            gmpMs[i] = g == null ? Double.NaN : Double.parseDouble(g[0]) + Double.parseDouble(g[1]);
          }
        }
        double a = SuiteReport.median(onMs);
        double b = SuiteReport.median(offMs);
        double g = SuiteReport.median(gmpMs);
        md.append(String.format(Locale.ROOT, "| %,d | %s | %s | %s | %.2f× | %.2f× |%n", n, SuiteReport.ms(a),
          SuiteReport.ms(b), SuiteReport.ms(g), a / g, b / g));
        raw.add(new JsonObject().put("n", n).put("cacheOnMs", a).put("cacheOffMs", b).put("gmpMs", g));
      }
    }
    stop(on);
    stop(off);
    ServiceProcess cold = node("cache-cold", NO_DATABASE);
    double coldMs = timed(BenchSuite.http(cold, "/fib/1000000"));
    stop(cold);
    md.append(String.format(Locale.ROOT, "%nThe first F(10^6) of a fresh node (defaults, no database), sent as soon as it"
      + " logged ready: %s ms (a miss: computed, kept, sent from the cache's memory).%n", SuiteReport.ms(coldMs)));
    raw.add(new JsonObject().put("coldFirstMs", coldMs));
    report.section("Warm and cold F(10^6), F(10^7) over HTTP, cache on and off", md.toString(), "warm", raw);
  }

  private double timed(String url) throws Exception {
    long t0 = System.nanoTime();
    byte[] body = text(url);
    double ms = (System.nanoTime() - t0) / 1e6;
    if (body.length < 100) {
      throw new IllegalStateException(url + ": " + new String(body, java.nio.charset.StandardCharsets.UTF_8));
    }
    return ms;
  }

  private byte[] text(String url) throws Exception {
    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/plain")
      .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + ": " + r.statusCode());
    }
    return r.body();
  }

  /** SHA-256 of the digits (the body without its newline), as GMP's script hashes them. */
  private static String sha256(byte[] body) throws Exception {
    int length = body.length > 0 && body[body.length - 1] == '\n' ? body.length - 1 : body.length;
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    digest.update(body, 0, length);
    return HexFormat.of().formatHex(digest.digest());
  }
}
