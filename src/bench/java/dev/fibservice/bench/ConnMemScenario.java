package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import dev.fibservice.bench.SuiteProcesses.BenchTool;
import dev.fibservice.bench.SuiteProcesses.Load;
import dev.fibservice.bench.SuiteProcesses.Nginx;
import dev.fibservice.bench.SuiteProcesses.Sample;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The idle-connections scenario ({@code make bench ARGS=connmem}): N idle connections of each kind (HTTP keep-alive
 * after one {@code GET /hello}, the TCP line protocol after one line, the TCP event-bus bridge after one ping, SockJS
 * WebSockets after their open frame) held open against a fresh fib-service node each, and the HTTP ones against nginx
 * {@code return 200}; for each, what the server holds per connection (heap after a full GC, native memory by NMT,
 * RSS) and the p99 of fresh requests on new connections while they are open, against the same without them. The
 * connections are made by {@link IdleClient}, a process of its own (a process may hold 20,000 descriptors here), from
 * several source addresses in 127.0.1.0/24.
 *
 * <p>Writes {@code bench/results/<date>-connmem.md}, {@code .json} and {@code .png}. System properties:
 * {@code bench.connmem.n} (15000), {@code bench.connmem.kinds} (http,tcp,bridge,sockjs), {@code bench.connmem.seconds}
 * (10, each p99 run), {@code bench.connmem.rate} (300 fresh requests/s), {@code bench.connmem.path} (/fib/30).
 *
 * <p>Alone: {@code java -cp <bench classpath> dev.fibservice.bench.ConnMemScenario} from the project directory.
 */
final class ConnMemScenario {

  /** Kinds of connection, with the port each is opened on. */
  enum Kind {
    HTTP, TCP, BRIDGE, SOCKJS;

    String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    int port(ServiceProcess node) {
      return switch (this) {
        case HTTP, SOCKJS -> node.httpPort();
        case TCP -> node.tcpPort();
        case BRIDGE -> node.bridgePort();
      };
    }
  }

  /** Warm-up connections opened and closed first, so that the connection path is compiled before the baseline. */
  static final int WARMUP_CONNECTIONS = 2000;
  static final int CLIENT_SOURCES = 8;
  /** Histogram entries shown per kind in the report. */
  static final int TOP = 14;
  static final String FIXED_HEAP = "fib-service, fixed heap";

  /**
   * What a server holds at one moment, after two full GCs: heap in use, RSS, and NMT's committed memory (total, the
   * Java heap, GC structures, and the JIT's: its code cache, compiler and the arena chunks it borrows and gives back on
   * a timer, which follow compilation, not connections). -1 where not measured (nginx has no heap or NMT).
   */
  record Memory(long heapKb, long rssKb, long nmtKb, long nmtHeapKb, long nmtGcKb, long nmtJitKb,
                Map<String, long[]> histogram) {
    /** Native memory: NMT's committed total without the Java heap and the JIT's. */
    long nativeKb() {
      return nmtKb < 0 ? -1 : nmtKb - nmtHeapKb - nmtJitKb;
    }
  }

  /** One server and kind: its numbers before and with the idle connections open. */
  record Run(String server, Kind kind, int n, int open, int failed, long openMs, String firstFailure,
             int stillOpen, Memory before, Memory after, List<Sample> without, List<Sample> with) {

    double perConnection(long beforeKb, long afterKb) {
      return beforeKb < 0 || afterKb < 0 || open == 0 ? Double.NaN : (afterKb - beforeKb) * 1024.0 / open;
    }

    double heapB() {
      return perConnection(before.heapKb(), after.heapKb());
    }

    double nativeB() {
      return perConnection(before.nativeKb(), after.nativeKb());
    }

    double rssB() {
      return perConnection(before.rssKb(), after.rssKb());
    }

    double gcB() {
      return perConnection(before.nmtGcKb(), after.nmtGcKb());
    }

    double heapCommittedB() {
      return perConnection(before.nmtHeapKb(), after.nmtHeapKb());
    }

    /** The p99 without the idle connections: the median of the runs before they opened and after they closed. */
    double p99Without() {
      return SuiteReport.median(without.stream().mapToDouble(Sample::p99Ms).toArray());
    }

    /** The p99 with the idle connections open: the median of the rounds. */
    double p99With() {
      return SuiteReport.median(with.stream().mapToDouble(Sample::p99Ms).toArray());
    }

    double p99Ratio() {
      return p99With() / p99Without();
    }

    String label() {
      return server + " " + kind.id();
    }
  }

  private final Path jar;
  private final Path work;
  private final Path outDir;
  private final BenchTool bench;
  private final SuiteReport suite;
  private final int n = Integer.getInteger("bench.connmem.n", 15_000);
  private final Duration seconds = Duration.ofSeconds(Long.getLong("bench.connmem.seconds", 10));
  private final double rate = Double.parseDouble(System.getProperty("bench.connmem.rate", "300"));
  /** Runs of fresh requests with the idle connections open (each opening them anew), alternating with runs without. */
  private final int rounds = Integer.getInteger("bench.connmem.rounds", 3);
  private final String freshPath = System.getProperty("bench.connmem.path", "/fib/30");
  /**
   * Another build of the service to measure each kind on as well, side by side in the same run (a jar of the version
   * before a change), or null.
   */
  private final Path compareJar = System.getProperty("bench.connmem.compareJar", "").isEmpty() ? null
    : Path.of(System.getProperty("bench.connmem.compareJar")).toAbsolutePath();
  private final String compareName = System.getProperty("bench.connmem.compareName", "fib-service before");
  /** The heap size of the extra HTTP run on a fixed, pre-touched heap; empty for none. */
  private final String fixedHeap = System.getProperty("bench.connmem.fixedHeap", "512m");
  private final List<Kind> kinds = Arrays.stream(System.getProperty("bench.connmem.kinds", "http,tcp,bridge,sockjs")
    .split(",")).map(s -> Kind.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
  private final List<Run> runs = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final String loadBefore = SuiteReport.loadAverage();
  private final String started = BenchSuite.now();
  private byte[] hello;
  private String helloType;
  private byte[] hello10000;

  ConnMemScenario(Path jar, Path work, Path outDir, SuiteReport suite) {
    this.jar = jar;
    this.work = work;
    this.outDir = outDir;
    this.bench = new BenchTool(jar, work);
    this.suite = suite;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Path jar = Path.of(System.getProperty("fib.jar", "target/fib-service.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      System.err.println("bench: " + jar + " not found (run `make build`)");
      System.exit(2);
    }
    Path work = Files.createDirectories(Path.of("target", "bench"));
    ConnMemScenario scenario = new ConnMemScenario(jar, work, Path.of(System.getProperty("bench.out", "bench/results")),
      null);
    System.out.println("bench: results in " + scenario.run().toAbsolutePath());
  }

  /** Runs every kind against fib-service, HTTP against nginx, and writes the results; returns the markdown's path. */
  Path run() throws Exception {
    long t0 = System.nanoTime();
    for (Kind kind : kinds) {
      for (Path build : compareJar == null ? List.of(jar) : List.of(compareJar, jar)) {
        String server = build == jar ? "fib-service" : compareName;
        try {
          runs.add(service(build, kind, server, List.of()));
        } catch (Exception e) {
          note(server + " " + kind.id() + " failed: " + e);
          e.printStackTrace();
        }
      }
    }
    if (kinds.contains(Kind.HTTP) && !fixedHeap.isEmpty()) {
      try {
        runs.add(service(jar, Kind.HTTP, FIXED_HEAP, List.of("-Xms" + fixedHeap, "-Xmx" + fixedHeap,
          "-XX:+AlwaysPreTouch")));
      } catch (Exception e) {
        note("fib-service with a fixed heap failed: " + e);
        e.printStackTrace();
      }
    }
    if (kinds.contains(Kind.HTTP)) {
      try {
        Run r = nginx();
        if (r != null) {
          runs.add(r);
        }
      } catch (Exception e) {
        note("nginx failed: " + e);
        e.printStackTrace();
      }
    }
    return write(Duration.ofNanos(System.nanoTime() - t0));
  }

  // ---- the two servers ---------------------------------------------------------------------------------------------

  private Run service(Path build, Kind kind, String server, List<String> jvmOptions) throws Exception {
    System.out.println("== connmem: " + server + ", " + n + " idle " + kind.id() + " connections");
    List<String> args = new ArrayList<>(List.of("--host", "127.0.0.1", "--http-port", "0", "--tcp-port", "0",
      "--set", "mysql.host=off", "--set", "bridge.enabled=true", "--set", "bridge.port=0"));
    // room for every connection, and none closed while the scenario holds them
    for (String key : List.of("http.maxConnections", "tcp.maxConnections", "bridge.maxConnections",
      "sockjs.maxConnections")) {
      args.addAll(List.of("--set", key + "=" + Math.max(10_000, n + WARMUP_CONNECTIONS)));
    }
    // (the header timeout too: versions before nginx's model ran it between requests)
    args.addAll(List.of("--set", "http.idleTimeoutSeconds=900", "--set", "tcp.idleTimeoutSeconds=900",
      "--set", "sockjs.pingTimeoutMs=900000", "--set", "http.headerTimeoutMs=900000"));
    // the JVM as `make run` starts it, with NMT's summary on
    List<String> jvm = new ArrayList<>(List.of("-XX:NativeMemoryTracking=summary"));
    jvm.addAll(jvmOptions);
    ServiceProcess node = ServiceProcess.launch(build, work.resolve("logs").resolve("connmem-" + kind.id()
      + (jvmOptions.isEmpty() ? "" : "-fixed-heap") + (build == jar ? "" : "-compared") + ".log"), jvm, Map.of(), args);
    try {
      node.awaitReady(Duration.ofSeconds(150));
      if (hello == null) {
        java.net.http.HttpResponse<byte[]> page = BenchSuite.get(BenchSuite.http(node, "/hello"));
        hello = page.body();
        helloType = page.headers().firstValue("Content-Type").orElse("text/html; charset=utf-8");
        hello10000 = BenchSuite.fetchBytes(BenchSuite.http(node, "/hello?repeat=10000"));
      }
      long pid = node.pid();
      // the other build and the fixed heap are there for their memory: one round of fresh requests
      int r = build == jar && jvmOptions.isEmpty() ? rounds : 1;
      return measure(server, kind, kind.port(node), BenchSuite.http(node, freshPath), List.of(pid), pid, r);
    } finally {
      node.close();
    }
  }

  private int nginxWorkerConnections() {
    return Math.max(8192, n * 6 / 10);
  }

  private Run nginx() throws Exception {
    if (Nginx.version() == null) {
      note("nginx is not installed: its row is skipped.");
      return null;
    }
    if (hello == null) {
      note("nginx skipped: no page from a fib-service node to serve.");
      return null;
    }
    System.out.println("== connmem: nginx, " + n + " idle http connections");
    // 2 workers, as in the rest of the suite, with room for every connection (reuseport spreads them over the two
    // unevenly) and a keep-alive longer than the run
    try (Nginx nginx = Nginx.start(Files.createTempDirectory("fib-bench-nginx-"), hello, helloType, hello10000, 2,
      nginxWorkerConnections(), 900)) {
      List<Long> pids = new ArrayList<>(List.of(nginx.process.pid()));
      nginx.process.descendants().forEach(p -> pids.add(p.pid()));
      return measure("nginx", Kind.HTTP, nginx.port, nginx.http("/hello"), pids, -1, rounds);
    }
  }

  /**
   * Warm-up (connections opened and closed, fresh requests), the p99 of fresh requests and the memory without idle
   * connections, then with N of them open.
   *
   * @param jvm the server's JVM for jcmd, or -1 (no heap or NMT figures)
   */
  private Run measure(String server, Kind kind, int port, String freshUrl, List<Long> pids, long jvm, int rounds)
    throws Exception {
    Load fresh = Load.http(freshUrl, 1, false).atRate(rate);
    try (Idle warm = Idle.open(kind, port, WARMUP_CONNECTIONS)) {
      System.out.printf("   warm-up: %d connections opened%n", warm.open);
    }
    bench.run(fresh, Duration.ofSeconds(3), Duration.ZERO);
    Sample without = bench.run(fresh, seconds, Duration.ofSeconds(1));
    System.out.printf("   fresh %s p99 without: %.2f ms%n", freshUrl, without.p99Ms());
    settle(jvm);
    Memory before = memory(pids, jvm);
    List<Sample> withoutRuns = new ArrayList<>(List.of(without));
    List<Sample> withRuns = new ArrayList<>();
    Idle idle = Idle.open(kind, port, n);
    Idle first = idle;
    Memory after;
    int stillOpen;
    try {
      System.out.printf("   %d open (%d failed) in %d ms%s%n", idle.open, idle.failed, idle.ms,
        idle.firstFailure == null ? "" : ", first failure: " + idle.firstFailure);
      after = memory(pids, jvm);
      withRuns.add(bench.run(fresh, seconds, Duration.ofSeconds(1)));
      stillOpen = idle.stillOpen();
    } finally {
      idle.close();
    }
    // once more without them, and as many rounds more as asked, alternating: a drift of the shared machine falls on
    // both sides
    withoutRuns.add(bench.run(fresh, seconds, Duration.ofSeconds(1)));
    for (int round = 1; round < rounds; round++) {
      try (Idle again = Idle.open(kind, port, n)) {
        withRuns.add(bench.run(fresh, seconds, Duration.ofSeconds(1)));
      }
      withoutRuns.add(bench.run(fresh, seconds, Duration.ofSeconds(1)));
    }
    Run r = new Run(server, kind, n, first.open, first.failed, first.ms, first.firstFailure, stillOpen, before, after,
      withoutRuns, withRuns);
    System.out.printf(Locale.ROOT, "   per connection: heap %.0f B, native %.0f B, RSS %.0f B; fresh p99 %s ms with"
      + " them open, %s ms without (%.2fx), %d still open after%n", r.heapB(), r.nativeB(), r.rssB(),
      p99s(withRuns), p99s(withoutRuns), r.p99Ratio(), stillOpen);
    return r;
  }

  /** The p99s of these runs, in ms, in the order they ran. */
  static String p99s(List<Sample> samples) {
    return String.join(", ", samples.stream().map(x -> SuiteReport.ms(x.p99Ms())).toList());
  }

  /** Waits (at most a minute) until the heap after a GC stops shrinking: closed connections' state is gone. */
  private static void settle(long jvm) throws InterruptedException {
    if (jvm < 0) {
      Thread.sleep(1000);
      return;
    }
    long last = heapAfterGc(jvm);
    for (int i = 0; i < 20; i++) {
      Thread.sleep(3000);
      long now = heapAfterGc(jvm);
      if (last - now < Math.max(1024, last / 50)) {
        return;
      }
      last = now;
    }
  }

  // ---- measuring ---------------------------------------------------------------------------------------------------

  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  private static final Pattern HISTOGRAM = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  private static Memory memory(List<Long> pids, long jvm) throws InterruptedException {
    long rss = 0;
    if (jvm < 0) {
      for (long pid : pids) {
        rss += rssKb(pid);
      }
      return new Memory(-1, rss, -1, -1, -1, -1, Map.of());
    }
    long heap = heapAfterGc(jvm);
    rss = rssKb(jvm);
    String nmt = jcmd(jvm, "VM.native_memory", "summary");
    Map<String, long[]> histogram = new HashMap<>();
    String h = jcmd(jvm, "GC.class_histogram");
    for (String line : h == null ? new String[0] : h.split("\n")) {
      Matcher m = HISTOGRAM.matcher(line);
      if (m.find()) {
        histogram.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    long jit = 0;
    for (String category : List.of("Code", "Compiler", "Arena Chunk")) {
      jit += Math.max(0, nmt(nmt, category + " "));
    }
    return new Memory(heap, rss, nmt(nmt, "Total:"), nmt(nmt, "Java Heap"), nmt(nmt, "GC "), jit, histogram);
  }

  private static long heapAfterGc(long jvm) throws InterruptedException {
    jcmd(jvm, "GC.run");
    Thread.sleep(300);
    jcmd(jvm, "GC.run");
    String info = jcmd(jvm, "GC.heap_info");
    Matcher m = info == null ? null : HEAP_USED.matcher(info);
    return m != null && m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Committed KB of an NMT summary line ("Total:" or a category such as "Java Heap"), -1 when absent. */
  static long nmt(String summary, String what) {
    if (summary == null) {
      return -1;
    }
    for (String line : summary.split("\n")) {
      String t = line.replaceFirst("^[-\\s]+", "");
      if (t.startsWith(what)) {
        Matcher m = Pattern.compile("committed=(\\d+)KB").matcher(t);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
      }
    }
    return -1;
  }

  private static String jcmd(long pid, String... command) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
      Long.toString(pid)));
    cmd.addAll(List.of(command));
    return SuiteProcesses.exec(Duration.ofSeconds(60), cmd.toArray(String[]::new));
  }

  private static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    } catch (IOException e) {
      // gone
    }
    return 0;
  }

  /** The idle connections' client, a process of its own ({@link IdleClient}); closing it closes them. */
  private static final class Idle implements AutoCloseable {
    final Process process;
    final BufferedReader out;
    final OutputStream in;
    int open;
    int failed;
    long ms;
    String firstFailure;

    private Idle(Process process) {
      this.process = process;
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = process.getOutputStream();
    }

    static Idle open(Kind kind, int port, int n) throws IOException {
      Process p = new ProcessBuilder(SuiteProcesses.java(), "-cp", System.getProperty("java.class.path"),
        IdleClient.class.getName(), kind.id(), Integer.toString(port), Integer.toString(n),
        kind == Kind.SOCKJS ? "/eventbus" : "/hello", Integer.toString(CLIENT_SOURCES)).redirectErrorStream(true)
        .start();
      Idle idle = new Idle(p);
      JsonObject ready = idle.next("open");
      idle.open = ready.getInteger("open");
      idle.failed = ready.getInteger("failed");
      idle.ms = ready.getLong("ms");
      idle.firstFailure = ready.getString("firstFailure");
      return idle;
    }

    /** The next JSON line of the client that has {@code key}. */
    private JsonObject next(String key) throws IOException {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("{") && line.contains("\"" + key + "\"")) {
          return new JsonObject(line);
        }
        System.out.println("   idle client: " + line);
      }
      throw new IOException("the idle client ended without a report (exit " + waitExit() + ")");
    }

    /** Connections the client still has open (the server closed none meanwhile when it is all of them). */
    int stillOpen() throws IOException {
      in.write("status\n".getBytes(StandardCharsets.US_ASCII));
      in.flush();
      return next("open").getInteger("open");
    }

    private int waitExit() {
      try {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
        return process.isAlive() ? -1 : process.exitValue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
    }

    @Override
    public void close() {
      try {
        in.write("close\n".getBytes(StandardCharsets.US_ASCII));
        in.flush();
      } catch (IOException e) {
        // it has gone already
      }
      waitExit();
    }
  }

  // ---- the report --------------------------------------------------------------------------------------------------

  private void note(String text) {
    notes.add(text);
    System.out.println("   note: " + text);
  }

  /** Who holds a class's instances, from its package (JDK types cannot be told apart by the histogram). */
  static String owner(String className) {
    if (className.startsWith("io.netty.") || className.startsWith("java.net.")) {
      return "Netty: channel, pipeline, addresses";
    }
    if (className.startsWith("io.vertx.core.")) {
      return "Vert.x core: connection, codecs";
    }
    if (className.startsWith("io.vertx.ext.web.")) {
      return "vertx-web: SockJS session, routing context";
    }
    if (className.startsWith("io.vertx.micrometer.")) {
      return "metrics (vertx-micrometer)";
    }
    if (className.startsWith("dev.fibservice.")) {
      return "fib-service";
    }
    return "JDK arrays, strings, collections (of any of the above)";
  }

  /** The histogram's growth per open connection: class -> {bytes, instances}, largest first. */
  static List<Map.Entry<String, double[]>> perConnection(Run r) {
    Map<String, double[]> d = new HashMap<>();
    for (Map.Entry<String, long[]> e : r.after().histogram().entrySet()) {
      long[] b = r.before().histogram().getOrDefault(e.getKey(), new long[2]);
      d.put(e.getKey(), new double[] {(e.getValue()[1] - b[1]) / (double) r.open(), (e.getValue()[0] - b[0])
        / (double) r.open()});
    }
    List<Map.Entry<String, double[]>> list = new ArrayList<>(d.entrySet());
    list.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
    return list;
  }

  private static Map<String, Double> byOwner(Run r) {
    Map<String, Double> owners = new LinkedHashMap<>();
    for (Map.Entry<String, double[]> e : perConnection(r)) {
      owners.merge(owner(e.getKey()), e.getValue()[0], Double::sum);
    }
    return owners;
  }

  private Path write(Duration took) throws IOException {
    Files.createDirectories(outDir);
    String date = BenchSuite.today();
    Path md = outDir.resolve(date + "-connmem.md");
    String png = date + "-connmem.png";
    chart(outDir.resolve(png));
    Files.writeString(outDir.resolve(date + "-connmem.json"), json(took).encodePrettily() + "\n");
    Files.writeString(md, markdown(date, took, png));
    if (suite != null) {
      Run http = find("fib-service", Kind.HTTP);
      suite.note("Idle connections (connmem): " + (http == null ? "see" : String.format(Locale.ROOT,
        "%,d idle HTTP keep-alive connections hold %s B of heap after a full GC, %s B native and %s B RSS each; fresh"
        + " p99 with them open %.2fx the p99 without them;", http.open(), SuiteReport.num(http.heapB()),
        SuiteReport.num(http.nativeB()), SuiteReport.num(http.rssB()), http.p99Ratio())) + " all kinds in "
        + md.getFileName() + ".");
    }
    return md;
  }

  private Run find(String server, Kind kind) {
    return runs.stream().filter(r -> r.server().equals(server) && r.kind() == kind).findFirst().orElse(null);
  }

  private static String b(double bytes) {
    return Double.isNaN(bytes) ? "n/a" : String.format(Locale.ROOT, "%,.0f", bytes);
  }

  private static String status(boolean met) {
    return met ? "**met**" : "**not met**";
  }

  private String markdown(String date, Duration took, String png) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Idle connections: memory per connection and fresh-request latency, ").append(date).append("\n\n");
    sb.append("`make bench ARGS=connmem`, started ").append(started).append(", took ").append(took.toMinutes())
      .append(" min ").append(took.toSecondsPart()).append(" s. Load average (1, 5, 15 min) before: ")
      .append(loadBefore).append(", after: ").append(SuiteReport.loadAverage()).append(". ").append(Runtime.getRuntime()
        .availableProcessors()).append(" cores shared by the server, the idle client and the load tool, over"
        + " loopback.\n\n");

    sb.append("## Targets\n\n| target | measured | status |\n|---|---|---|\n");
    for (Kind k : List.of(Kind.HTTP, Kind.TCP, Kind.BRIDGE)) {
      Run r = find("fib-service", k);
      if (r == null) {
        continue;
      }
      double total = r.heapB() + Math.max(0, r.nativeB());
      sb.append("| ").append(k.id()).append(": heap after a full GC plus native (NMT) ≤ 2 KB per idle connection | ")
        .append(b(r.heapB())).append(" B heap + ").append(b(r.nativeB())).append(" B native = ").append(b(total))
        .append(" B | ").append(status(total <= 2048)).append(" |\n");
      sb.append("| ").append(k.id()).append(": RSS ≤ 3 KB per idle connection | ").append(b(r.rssB()))
        .append(" B | ").append(status(r.rssB() <= 3072)).append(" |\n");
      sb.append("| ").append(k.id()).append(": p99 of fresh `").append(freshPath).append("` with them open ≤ 1.5×"
        + " without | ").append(String.format(Locale.ROOT, "%.2f× (medians %s ms vs %s ms)", r.p99Ratio(),
        SuiteReport.ms(r.p99With()), SuiteReport.ms(r.p99Without()))).append(" | ")
        .append(status(r.p99Ratio() <= 1.5)).append(" |\n");
    }
    sb.append('\n');

    sb.append("## Per connection\n\n");
    sb.append("| server | kind | open (failed) | opened in | heap after full GC B/conn | native (NMT) B/conn | of"
      + " which GC structures | heap committed B/conn | RSS B/conn | fresh p99 without ms | with them ms | ratio of"
      + " medians | still open after |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|\n");
    for (Run r : runs) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %,d (%d) | %.1f s | %s | %s | %s | %s | %s | %s | %s |"
          + " %.2f× | %,d |%n", r.server(), r.kind().id(), r.open(), r.failed(), r.openMs() / 1000.0, b(r.heapB()),
        b(r.nativeB()), b(r.gcB()), b(r.heapCommittedB()), b(r.rssB()), p99s(r.without()), p99s(r.with()),
        r.p99Ratio(), r.stillOpen()));
    }
    sb.append("\n![per connection](").append(png).append(")\n\n");

    sb.append("## What an idle connection of fib-service still holds\n\n");
    sb.append("By owner (from the class histogram's growth per open connection; JDK types such as `byte[]` and"
      + " `Object[]` belong to any of the owners and are counted apart):\n\n");
    List<Run> service = runs.stream().filter(r -> r.server().equals("fib-service")).toList();
    sb.append("| owner |");
    service.forEach(r -> sb.append(' ').append(r.kind().id()).append(" B/conn |"));
    sb.append("\n|---|");
    service.forEach(r -> sb.append("---:|"));
    sb.append('\n');
    Map<String, Map<Kind, Double>> owners = new LinkedHashMap<>();
    for (Run r : service) {
      byOwner(r).forEach((o, v) -> owners.computeIfAbsent(o, k -> new HashMap<>()).put(r.kind(), v));
    }
    owners.forEach((o, m) -> {
      sb.append("| ").append(o).append(" |");
      service.forEach(r -> sb.append(' ').append(b(m.getOrDefault(r.kind(), 0.0))).append(" |"));
      sb.append('\n');
    });
    sb.append('\n');
    for (Run r : service) {
      sb.append("Largest classes, ").append(r.kind().id()).append(" (B and instances per connection): ");
      List<String> top = new ArrayList<>();
      for (Map.Entry<String, double[]> e : perConnection(r).subList(0, Math.min(TOP, perConnection(r).size()))) {
        top.add(String.format(Locale.ROOT, "`%s` %.0f (%.2f)", e.getKey(), e.getValue()[0], e.getValue()[1]));
      }
      sb.append(String.join(", ", top)).append(".\n\n");
    }

    sb.append("## Method\n\n");
    String compared = compareJar == null ? "" : "; each kind also on `" + compareName + "` (" + compareJar.getFileName()
      + ", another build), just before";
    String fixed = fixedHeap.isEmpty() ? "" : " HTTP once more on a node with a fixed heap, touched in full at start"
      + " (`-Xms" + fixedHeap + " -Xmx" + fixedHeap + " -XX:+AlwaysPreTouch`): its RSS no longer moves with G1's heap"
      + " sizing, so its growth is the native part alone, and its heap after a full GC is what the connections hold in"
      + " that heap.";
    sb.append(String.format(Locale.ROOT, "- For each kind a fresh fib-service node (`target/fib-service.jar`, default"
      + " JVM flags as `make run`, plus `-XX:NativeMemoryTracking=summary`; database off; the four"
      + " `*.maxConnections` raised to %,d and the idle and header timeouts to 900 s so that nothing is refused or"
      + " closed)%s, and nginx (2 workers, `return 200` with the service's own /hello bytes, `worker_connections` %,d,"
      + " `keepalive_timeout 900s`) for HTTP.%s%n", Math.max(10_000, n + WARMUP_CONNECTIONS), compared,
      nginxWorkerConnections(), fixed));
    sb.append(String.format(Locale.ROOT, "- The idle connections come from `IdleClient`, a JVM of its own (a process"
      + " may hold 20,000 descriptors here), bound to %d source addresses 127.0.1.1-%d in turn; each connection makes"
      + " one exchange and then idles: HTTP one `GET /hello` (keep-alive) and its response, TCP a line `1` and its"
      + " reply, the bridge a `ping` frame and its `pong`, SockJS the WebSocket upgrade of"
      + " `/eventbus/000/<id>/websocket` and the open frame (the client sends no pings: `sockjs.pingTimeoutMs` is"
      + " raised instead). %,d connections of"
      + " the kind are opened and closed first (the connection path compiled, its classes loaded), then the memory"
      + " is measured once the heap after a GC has settled.%n", CLIENT_SOURCES, CLIENT_SOURCES, WARMUP_CONNECTIONS));
    sb.append("- Memory, before and with the connections open, each after two full GCs (`jcmd GC.run`): heap in use"
      + " (`jcmd GC.heap_info`), NMT's committed memory (`jcmd VM.native_memory summary`) without the Java heap and"
      + " without the JIT's (code cache, compiler, the arena chunks it borrows and returns on a timer) (*native*; its"
      + " *GC structures* part is what G1 commits beside a heap that grew), the Java heap's committed size, and RSS"
      + " (`/proc/PID/status`, for nginx the master and its workers). Per connection is the growth divided by the"
      + " connections open. nginx allocates and touches its `worker_connections` connection structures when it starts"
      + " (about 0.45 KB each): they are in its baseline, its growth is what a connection costs it beyond them.\n");
    sb.append(String.format(Locale.ROOT, "- Fresh requests: the built-in load tool, one connection per request"
      + " (`--no-keepalive`, c=1) at %.0f req/s for %d s after 1 s of warm-up, to `%s` on fib-service and `/hello` on"
      + " nginx; p99 from the intended send time. Runs without the idle connections (before they first open, and"
      + " after each time they closed) alternate with %d runs with them open (each opening them anew; one for the other"
      + " build and the fixed heap, which are there for their memory); the ratio is of the medians. *Still open after*"
      + " is how many of the idle connections the client still had after the first run with them.%n", rate,
      seconds.toSeconds(), freshPath, rounds));
    sb.append("- RSS of a JVM follows its heap's committed size: while the connections open, G1 grows its heap for the"
      + " allocation of every accept and request, far more than what stays, and RSS with it; *heap committed* shows"
      + " that part. Heap after a full GC plus NMT's native memory is what the connections hold.\n\n");
    if (!notes.isEmpty()) {
      sb.append("## Notes\n\n");
      notes.forEach(x -> sb.append("- ").append(x).append('\n'));
      sb.append('\n');
    }
    return sb.toString();
  }

  private JsonObject json(Duration took) {
    JsonArray arr = new JsonArray();
    for (Run r : runs) {
      JsonObject top = new JsonObject();
      for (Map.Entry<String, double[]> e : perConnection(r).subList(0, Math.min(40, perConnection(r).size()))) {
        top.put(e.getKey(), new JsonObject().put("bytes", round(e.getValue()[0])).put("instances",
          round(e.getValue()[1])));
      }
      JsonObject owners = new JsonObject();
      byOwner(r).forEach((o, v) -> owners.put(o, round(v)));
      arr.add(new JsonObject().put("server", r.server()).put("kind", r.kind().id()).put("connections", r.n())
        .put("open", r.open()).put("failed", r.failed()).put("openMs", r.openMs()).put("firstFailure",
          r.firstFailure()).put("stillOpenAfter", r.stillOpen())
        .put("before", memoryJson(r.before())).put("after", memoryJson(r.after()))
        .put("perConnection", new JsonObject().put("heapBytes", round(r.heapB())).put("nativeBytes",
          round(r.nativeB())).put("gcBytes", round(r.gcB())).put("heapCommittedBytes", round(r.heapCommittedB()))
          .put("rssBytes", round(r.rssB())))
        .put("freshP99Ms", new JsonObject().put("without", samples(r.without(), Sample::p99Ms))
          .put("with", samples(r.with(), Sample::p99Ms)).put("medianWithout", round(r.p99Without()))
          .put("medianWith", round(r.p99With())).put("ratio", round(r.p99Ratio())))
        .put("freshP50Ms", new JsonObject().put("without", samples(r.without(), Sample::p50Ms))
          .put("with", samples(r.with(), Sample::p50Ms)))
        .put("freshErrors", new JsonObject().put("without", r.without().stream().mapToLong(Sample::errors).sum())
          .put("with", r.with().stream().mapToLong(Sample::errors).sum()))
        .put("byOwner", owners).put("classes", top));
    }
    return new JsonObject().put("started", started).put("seconds", took.toSeconds()).put("loadBefore", loadBefore)
      .put("loadAfter", SuiteReport.loadAverage()).put("connections", n).put("freshPath", freshPath)
      .put("freshRate", rate).put("runs", arr).put("notes", new JsonArray(new ArrayList<>(notes)));
  }

  private static JsonArray samples(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> value) {
    JsonArray a = new JsonArray();
    samples.forEach(x -> a.add(round(value.applyAsDouble(x))));
    return a;
  }

  private static JsonObject memoryJson(Memory m) {
    return new JsonObject().put("heapKb", m.heapKb()).put("rssKb", m.rssKb()).put("nmtCommittedKb", m.nmtKb())
      .put("nmtJavaHeapKb", m.nmtHeapKb()).put("nmtGcKb", m.nmtGcKb()).put("nmtJitKb", m.nmtJitKb())
      .put("nativeKb", m.nativeKb());
  }

  private static Double round(double d) {
    return Double.isNaN(d) || Double.isInfinite(d) ? null : Math.round(d * 100) / 100.0;
  }

  /** Bytes per connection (heap, native, RSS) beside the fresh p99 without and with them, in one picture. */
  private void chart(Path file) throws IOException {
    List<String> labels = runs.stream().map(Run::label).toList();
    if (labels.isEmpty()) {
      return;
    }
    CategoryChart memory = new CategoryChartBuilder().width(1000).height(650)
      .title(String.format(Locale.ROOT, "Bytes per idle connection (%,d open)", n)).yAxisTitle("bytes").build();
    memory.addSeries("heap after full GC", labels, runs.stream().map(r -> zero(r.heapB())).toList());
    memory.addSeries("native (NMT)", labels, runs.stream().map(r -> zero(r.nativeB())).toList());
    memory.addSeries("RSS", labels, runs.stream().map(r -> zero(r.rssB())).toList());
    CategoryChart latency = new CategoryChartBuilder().width(700).height(650)
      .title("Fresh-request p99 (" + freshPath + ", nginx /hello)").yAxisTitle("ms").build();
    latency.addSeries("without them (median)", labels, runs.stream().map(r -> zero(r.p99Without())).toList());
    latency.addSeries("with them open (median)", labels, runs.stream().map(r -> zero(r.p99With())).toList());
    for (CategoryChart c : List.of(memory, latency)) {
      CategoryStyler s = c.getStyler();
      s.setLegendPosition(Styler.LegendPosition.OutsideS);
      s.setLegendLayout(Styler.LegendLayout.Horizontal);
      s.setChartBackgroundColor(Color.WHITE);
      s.setXAxisLabelRotation(20);
      s.setLabelsVisible(true);
      s.setLabelsFontColorAutomaticEnabled(false);
      s.setLabelsFontColor(Color.BLACK);
      s.setLabelsRotation(90);
      s.setDecimalPattern(c == memory ? "#,##0" : "#,##0.00");
    }
    BufferedImage left = BitmapEncoder.getBufferedImage(memory);
    BufferedImage right = BitmapEncoder.getBufferedImage(latency);
    BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(), Math.max(left.getHeight(),
      right.getHeight()), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, both.getWidth(), both.getHeight());
    g.drawImage(left, 0, 0, null);
    g.drawImage(right, left.getWidth(), 0, null);
    g.dispose();
    ImageIO.write(both, "png", file.toFile());
  }

  private static double zero(double d) {
    return Double.isNaN(d) ? 0 : d;
  }
}
