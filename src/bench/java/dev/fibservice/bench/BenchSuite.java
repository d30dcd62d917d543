package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import dev.fibservice.bench.SuiteProcesses.BenchTool;
import dev.fibservice.bench.SuiteProcesses.Cpu;
import dev.fibservice.bench.SuiteProcesses.Load;
import dev.fibservice.bench.SuiteProcesses.Nginx;
import dev.fibservice.bench.SuiteProcesses.Peer;
import dev.fibservice.bench.SuiteProcesses.Sample;
import dev.fibservice.bench.SuiteProcesses.Wrk;
import dev.fibservice.math.BigFibonacciBench;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code make bench}: fresh service processes on loopback, nginx as the reference server and wrk as a second load
 * generator where installed, the scenarios side by side in one run, and a results file with charts in
 * {@code bench/results/}. Not a test: it lives in {@code src/bench/java}, which only the {@code bench} Maven profile
 * compiles (beside the test sources, whose {@code ServiceProcess} it starts the jar with), so nothing here is
 * compiled or timed in {@code make test}.
 *
 * <p>Run: {@code java -cp <test classpath> dev.fibservice.bench.BenchSuite [scenario ...]} (the Makefile does it);
 * system properties {@code bench.seconds}, {@code bench.warmup}, {@code bench.rounds}, {@code bench.out}.
 */
public final class BenchSuite {

  /** Scenario ids, in run order; {@code make bench ARGS="hello tcp"} runs a subset. */
  static final List<String> SCENARIOS = List.of("hello", "conn", "big", "fib", "tcp", "db", "instances", "metrics",
    "isolation", "bigfib", "coalesce", "zipf", "tracing", "connmem", "cluster", "jobs", "upgrade");
  /**
   * Scenarios run only when named ({@code make bench ARGS=soak}): long, and each writes a results file of its own
   * ({@code <date>-soak.md}, {@code <date>-chaos.md}) instead of the suite's.
   */
  static final List<String> ON_REQUEST = List.of("soak", "chaos");
  /** Scenarios that start the nodes and peers they need themselves: run alone, they need neither main nor nginx. */
  static final Set<String> SELF_CONTAINED = Set.of("bigfib", "coalesce", "zipf", "tracing", "connmem", "cluster", "jobs",
    "upgrade", "soak", "chaos");

  static final int C = 100;

  final Path jar;
  final Path outDir;
  final Path work;
  final Duration seconds;
  final Duration warmup;
  final int rounds;
  final int cores = Runtime.getRuntime().availableProcessors();
  final SuiteReport report;
  final BenchTool bench;
  final Wrk wrk;
  final List<AutoCloseable> open = new ArrayList<>();

  ServiceProcess main;
  /**
   * Other builds or settings of the service, beside it in rows 1, 2 and 6 ({@code -Dbench.variants}), by the name they
   * get there: the effect of a change measured side by side in one run.
   */
  final Map<String, ServiceProcess> variants = new LinkedHashMap<>();
  Nginx nginx;
  /** The peers of bench/peers/ (null when their interpreter, compiler or library is missing). */
  final Path peers = Path.of("bench", "peers");
  Peer pythonHello;
  Peer lineResponder;
  Peer aiomysql;

  BenchSuite(Path jar, Path outDir, Duration seconds, Duration warmup, int rounds) throws IOException {
    this.jar = jar;
    this.outDir = outDir;
    this.seconds = seconds;
    this.warmup = warmup;
    this.rounds = rounds;
    this.work = Files.createDirectories(Path.of("target", "bench"));
    this.report = new SuiteReport(outDir, seconds, warmup, rounds);
    this.bench = new BenchTool(jar, work);
    this.wrk = Wrk.find(1);   // wrk -t1, as the issue measures: one core for the generator, one for the server
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Set<String> only = new LinkedHashSet<>(Arrays.asList(args));
    if (only.stream().anyMatch(ON_REQUEST::contains) && !ON_REQUEST.containsAll(only)) {
      System.err.println("bench: " + String.join(" ", ON_REQUEST) + " run on their own (make bench ARGS=soak)");
      System.exit(2);
    }
    for (String s : only) {
      if (!SCENARIOS.contains(s) && !ON_REQUEST.contains(s)) {
        System.err.println("bench: unknown scenario '" + s + "'; known: " + String.join(" ", SCENARIOS) + " (and, only"
          + " when named: " + String.join(" ", ON_REQUEST) + ")");
        System.exit(2);
      }
    }
    Path jar = Path.of(System.getProperty("fib.jar", "target/fib-service.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      System.err.println("bench: " + jar + " not found (run `make build`)");
      System.exit(2);
    }
    BenchSuite suite = new BenchSuite(jar, Path.of(System.getProperty("bench.out", "bench/results")),
      Duration.ofSeconds(Long.getLong("bench.seconds", 6)), Duration.ofSeconds(Long.getLong("bench.warmup", 2)),
      Integer.getInteger("bench.rounds", 3));
    Runtime.getRuntime().addShutdownHook(new Thread(suite::closeAll, "bench-cleanup"));
    if (!only.isEmpty() && ON_REQUEST.containsAll(only)) {
      for (String s : only) {
        System.out.println("== " + s);
        switch (s) {
          case "soak" -> new SoakScenario(jar, suite.outDir, suite.work).run();
          case "chaos" -> ChaosScenario.run(jar, suite.outDir, suite.work);
          default -> throw new IllegalStateException(s);
        }
      }
      return;
    }
    long t0 = System.nanoTime();
    try {
      suite.run(only.isEmpty() ? new LinkedHashSet<>(SCENARIOS) : only);
    } finally {
      suite.closeAll();
    }
    if (only.equals(Set.of("connmem"))) {
      // it wrote its own <date>-connmem results; a suite report of nothing else would overwrite the day's full run
      return;
    }
    Path md = suite.report.write(Duration.ofNanos(System.nanoTime() - t0));
    System.out.println();
    System.out.println("bench: results in " + md.toAbsolutePath() + " (charts beside it)");
  }

  void run(Set<String> scenarios) throws Exception {
    report.machine(cores, wrk);
    if (scenarios.stream().anyMatch(s -> !SELF_CONTAINED.contains(s))) {
      startPeers();
      warmUp();
    }
    for (String s : SCENARIOS) {
      if (!scenarios.contains(s)) {
        continue;
      }
      long t = System.nanoTime();
      System.out.println("== " + s);
      try {
        switch (s) {
          case "hello" -> hello();
          case "conn" -> perConnection();
          case "big" -> bigPage();
          case "fib" -> fib();
          case "tcp" -> tcp();
          case "db" -> db();
          case "instances" -> instances();
          case "metrics" -> metrics();
          case "isolation" -> isolation();
          case "bigfib" -> bigFib();
          case "coalesce" -> cache(CacheScenario::coalesce);
          case "zipf" -> cache(CacheScenario::zipf);
          case "tracing" -> tracing();
          case "connmem" -> System.out.println("bench: idle connections in "
            + new ConnMemScenario(jar, work, outDir, report).run().toAbsolutePath());
          case "cluster" -> cluster();
          case "jobs" -> jobs();
          case "upgrade" -> new UpgradeScenario(work, outDir, Duration.ofSeconds(Long.getLong("bench.upgradeSteadySeconds",
            30))).run();
          default -> throw new IllegalStateException(s);
        }
      } catch (Exception e) {
        // one broken scenario must not cost the numbers of the others
        report.note("Scenario `" + s + "` failed: " + e);
        e.printStackTrace();
      }
      System.out.printf("   (%s: %.0f s)%n", s, (System.nanoTime() - t) / 1e9);
    }
  }

  // ---- set-up ------------------------------------------------------------------------------------------------------

  void startPeers() throws Exception {
    // the embedded MariaDB of the suite: its own port and data dir, so it never meets another node's
    main = startNode("main", List.of("--set", "mysql.port=0", "--set",
      "mysql.dataDir=" + Path.of("data", "bench-mariadb").toAbsolutePath()));
    if (main == null) {
      throw new IllegalStateException("the service did not start; see " + work.resolve("logs"));
    }
    report.serviceInfo(fetch(http(main, "/info")));
    startVariants(System.getProperty("bench.variants", ""));
    HttpResponse<byte[]> helloResponse = get(http(main, "/hello"));
    byte[] hello = helloResponse.body();
    String contentType = helloResponse.headers().firstValue("Content-Type").orElse("text/html; charset=utf-8");
    byte[] hello10000 = fetchBytes(http(main, "/hello?repeat=10000"));
    Path dir = Files.createTempDirectory("fib-bench-nginx-");
    nginx = Nginx.start(dir, hello, contentType, hello10000, cores);
    if (nginx == null) {
      report.note("nginx is not installed: the nginx rows and the nginx targets are skipped (`make bench` installs it"
        + " with apt when run as root; else `sudo apt-get install nginx`).");
    } else {
      open.add(nginx);
      HttpResponse<byte[]> fromMemory = get(nginx.http("/hello"));
      if (!Arrays.equals(fetchBytes(nginx.http("/file/hello?repeat=10000")), hello10000)
        || !Arrays.equals(fromMemory.body(), hello) || !Arrays.equals(fetchBytes(nginx.http("/file/hello")), hello)
        || !contentType.equals(fromMemory.headers().firstValue("Content-Type").orElse(""))) {
        throw new IllegalStateException("nginx does not serve the same bytes as the service");
      }
      report.nginx(nginx.version, cores, hello.length, hello10000.length, contentType);
    }
    startClassicPeers(hello, contentType);
    if (wrk == null) {
      report.note("wrk is not installed: only the built-in generator ran (`make bench` installs wrk with apt when run"
        + " as root; else `sudo apt-get install wrk`).");
    }
  }

  /** The Python hello server, the C line responder and the aiomysql server; each skipped with a note when it cannot run. */
  void startClassicPeers(byte[] hello, String contentType) throws Exception {
    Path logs = work.resolve("logs");
    String python = SuiteProcesses.debianPython();
    if (python == null) {
      report.note("Debian's /usr/bin/python3 is missing: the Python peers (socketserver hello, perf.py, aiomysql) are"
        + " skipped.");
    } else {
      Path page = work.resolve("hello.html");
      Files.write(page, hello);
      pythonHello = Peer.start("python socketserver hello", logs, List.of(python,
        peers.resolve("hello_server.py").toString(), "{port}", page.toString(), contentType));
      open.add(pythonHello);
      if (!Arrays.equals(fetchBytes(pythonHello.http("/hello")), hello)) {
        throw new IllegalStateException("the Python hello server does not serve the same bytes as the service");
      }
      JsonObject db = new JsonObject(fetch(http(main, "/info"))).getJsonObject("database", new JsonObject());
      java.util.regex.Matcher port = java.util.regex.Pattern.compile(":(\\d+)").matcher(db.getString("target", ""));
      Path password = Path.of("data", "bench-mariadb", "fib-service-password").toAbsolutePath();
      if (SuiteProcesses.exec(Duration.ofSeconds(20), python, "-c", "import aiomysql") == null) {
        report.note("python3-aiomysql is not installed: the aiomysql `/db` row is skipped (`make bench` installs it"
          + " with apt when run as root).");
      } else if (!port.find() || !Files.isReadable(password)) {
        report.note("the aiomysql `/db` row is skipped: no embedded MariaDB port in /info (" + db.encode() + ") or no"
          + " password file at " + password);
      } else {
        aiomysql = Peer.start("aiomysql", logs, List.of(python, peers.resolve("db_server.py").toString(), "{port}",
          "127.0.0.1", port.group(1), "root", password.toString(), "fib"));
        open.add(aiomysql);
        String answer = fetch(aiomysql.http("/db"));
        if (!answer.contains("\"value\": 1")) {
          throw new IllegalStateException("the aiomysql server answered " + answer);
        }
      }
    }
    String[] why = new String[1];
    Path responder = SuiteProcesses.compileLineResponder(peers, work, why);
    if (responder == null) {
      report.note("The C line responder is skipped: " + why[0] + ".");
    } else {
      lineResponder = Peer.start("C line responder", logs, List.of(responder.toString(), "{port}"));
      open.add(lineResponder);
    }
    report.peers(pythonHello != null ? python : null, responder != null, aiomysql != null);
  }

  /**
   * {@code -Dbench.variants="main=jar:/tmp/main.jar; io_uring=--set transport=io_uring"}: each a node without a
   * database, named {@code fib-service <label>}, from another jar ({@code jar:PATH} first) or with other arguments.
   */
  void startVariants(String spec) throws Exception {
    for (String entry : spec.split(";")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("bench.variants: expected label=args, got '" + entry.strip() + "'");
      }
      String label = entry.substring(0, eq).strip();
      List<String> args = new ArrayList<>(List.of(entry.substring(eq + 1).strip().split("\\s+")));
      Path from = jar;
      if (!args.isEmpty() && args.get(0).startsWith("jar:")) {
        from = Path.of(args.remove(0).substring(4)).toAbsolutePath();
      }
      args.removeIf(String::isEmpty);
      args.addAll(List.of("--set", "mysql.host=off"));
      ServiceProcess node = startNode("variant-" + label, from, args);
      if (node != null) {
        variants.put("fib-service " + label, node);
        report.note("`fib-service " + label + "`: " + (from.equals(jar) ? "this build" : from.toString()) + " with "
          + String.join(" ", args) + ", beside the service in rows 1, 2 and 6.");
      }
    }
  }

  ServiceProcess startNode(String name, List<String> args) throws Exception {
    return startNode(name, args, jar, List.of());
  }

  ServiceProcess startNode(String name, Path fromJar, List<String> args) throws Exception {
    return startNode(name, args, fromJar, List.of());
  }

  /**
   * A node of {@code fromJar} (another build, for a side-by-side of two versions of the code) with these JVM options
   * (e.g. a system property of the engine).
   */
  ServiceProcess startNode(String name, List<String> args, Path fromJar, List<String> jvm) throws Exception {
    List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1", "--http-port", "0", "--tcp-port", "0"));
    all.addAll(args);
    ServiceProcess node = ServiceProcess.launch(fromJar, work.resolve("logs").resolve(name + ".log"), jvm, Map.of(), all);
    open.add(node);
    String why = null;
    try {
      node.awaitReady(Duration.ofSeconds(150));
    } catch (Exception | AssertionError e) {
      why = e.getMessage();
    }
    if (why != null) {
      node.close();
      if (!why.contains("unknown config key")) { // a jar without the key: the scenario says so itself
        report.note("Node `" + name + "` (" + String.join(" ", args) + ") did not start: " + why);
      }
      return null;
    }
    System.out.println("   node " + name + ": HTTP " + node.httpPort() + ", TCP " + node.tcpPort());
    return node;
  }

  /** JIT warm-up of the service (every path the scenarios use) and of nginx; results discarded. */
  void warmUp() throws Exception {
    System.out.println("== warm-up");
    Duration d = Duration.ofSeconds(3);
    for (Load l : List.of(Load.http(http(main, "/hello"), C, true), Load.http(http(main, "/hello"), C, false),
      Load.http(http(main, "/hello?repeat=10000"), C, true), Load.http(http(main, "/fib/30?algorithm=recursive"), C, true),
      Load.http(http(main, "/fib/1000"), C, true), Load.http(http(main, "/db"), C, true), Load.tcp(tcp(main), 50))) {
      bench.run(l, d, Duration.ZERO);
    }
    for (ServiceProcess v : variants.values()) {
      for (Load l : List.of(Load.http(http(v, "/hello"), C, true), Load.http(http(v, "/hello"), C, false),
        Load.tcp(tcp(v), 50))) {
        bench.run(l, d, Duration.ZERO);
      }
    }
    if (nginx != null) {
      bench.run(Load.http(nginx.http("/hello"), C, true), d, Duration.ZERO);
    }
    if (wrk != null) {
      // the JIT needs about 20 s of load on a path before the compiled code settles (measured: per-connection /hello
      // rose from 9k to 20k req/s over its first four 5 s runs); wrk loads harder than the built-in tool
      Duration jit = Duration.ofSeconds(Long.getLong("bench.jitSeconds", 10));
      for (Load l : List.of(Load.http(http(main, "/hello"), C, true), Load.http(http(main, "/hello"), C, false),
        Load.http(http(main, "/hello?repeat=10000"), C, true), Load.http(http(main, "/hello?repeat=10000"), C, false))) {
        wrk.run(l, jit);
      }
      for (ServiceProcess v : variants.values()) {
        wrk.run(Load.http(http(v, "/hello"), C, true), jit);
        wrk.run(Load.http(http(v, "/hello"), C, false), jit);
      }
    }
  }

  void closeAll() {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception ignore) {
        // best effort at exit
      }
    }
    open.clear();
  }

  // ---- scenarios ---------------------------------------------------------------------------------------------------

  /** One server of a side-by-side row: its name in the report, the URL, its process (for its CPU time). */
  record Target(String server, String url, ProcessHandle process) {
  }

  Target service(String path) {
    return new Target("fib-service", http(main, path), ProcessHandle.of(main.pid()).orElse(null));
  }

  /** The service and its variants ({@code -Dbench.variants}) at {@code path}. */
  List<Target> services(String path) {
    List<Target> t = new ArrayList<>(List.of(service(path)));
    variants.forEach((name, v) -> t.add(new Target(name, http(v, path), ProcessHandle.of(v.pid()).orElse(null))));
    return t;
  }

  /** nginx from memory ({@code return 200}) at {@code /hello}, and serving the file at {@code /file/hello}. */
  void addNginx(List<Target> targets, boolean fromMemory, String query) {
    if (nginx != null) {
      targets.add(fromMemory ? new Target("nginx", nginx.http("/hello" + query), nginx.process.toHandle())
        : new Target("nginx files", nginx.http("/file/hello" + query), nginx.process.toHandle()));
    }
  }

  /** 1: /hello keep-alive, c=100, vs nginx from memory and nginx serving the file. */
  void hello() throws Exception {
    List<Target> t = services("/hello");
    addNginx(t, true, "");
    addNginx(t, false, "");
    versus("1", "/hello keep-alive c=100", t, true);
  }

  /** 2: /hello, a new connection per request, c=100, vs nginx (both ways) and the Python socketserver hello. */
  void perConnection() throws Exception {
    List<Target> t = services("/hello");
    addNginx(t, true, "");
    addNginx(t, false, "");
    if (pythonHello != null) {
      t.add(new Target("python socketserver", pythonHello.http("/hello"), pythonHello.process.toHandle()));
    }
    versus("2", "/hello new connection per request c=100", t, false);
  }

  /** 3: the 220 KB page, keep-alive and per connection, vs nginx serving the same file. */
  void bigPage() throws Exception {
    List<Target> t = new ArrayList<>(List.of(service("/hello?repeat=10000")));
    addNginx(t, false, "?repeat=10000");
    versus("3a", "/hello?repeat=10000 (220 KB) keep-alive c=100", t, true);
    versus("3b", "/hello?repeat=10000 (220 KB) new connection per request c=100", t, false);
  }

  /**
   * Side by side with both generators. Rounds rotate the order (service first, then a peer first, ...) so slow drift
   * of the shared machine falls on all; the report takes the median of the rounds.
   */
  void versus(String id, String label, List<Target> targets, boolean keepAlive) throws Exception {
    for (int r = 0; r < rounds; r++) {
      List<Target> order = new ArrayList<>(targets);
      java.util.Collections.rotate(order, -r);
      for (Target t : order) {
        measure(id, label, t.server(), "built-in", Load.http(t.url(), C, keepAlive));
      }
      if (wrk != null) {
        for (Target t : order) {
          measure(id, label, t.server(), "wrk", Load.http(t.url(), C, keepAlive), t.process());
        }
      }
    }
  }

  /** 4: CPU-bound requests: throughput and p99. */
  void fib() throws Exception {
    measure("4a", "/fib/30?algorithm=recursive c=100", "fib-service", "built-in",
      Load.http(http(main, "/fib/30?algorithm=recursive"), C, true));
    measure("4b", "/fib/1000 c=100", "fib-service", "built-in", Load.http(http(main, "/fib/1000"), C, true));
    if (wrk != null) {
      measure("4a", "/fib/30?algorithm=recursive c=100", "fib-service", "wrk",
        Load.http(http(main, "/fib/30?algorithm=recursive"), C, true));
      measure("4b", "/fib/1000 c=100", "fib-service", "wrk", Load.http(http(main, "/fib/1000"), C, true));
    }
  }

  /** 6: the TCP line protocol, round trips of `1\n`: one connection strictly sequential, then 50 connections. */
  void tcp() throws Exception {
    Map<String, ServiceProcess> nodes = new LinkedHashMap<>(Map.of("fib-service", main));
    nodes.putAll(variants);
    for (int r = 0; r < (variants.isEmpty() ? 1 : rounds); r++) {
      List<String> order = new ArrayList<>(nodes.keySet());
      java.util.Collections.rotate(order, -r);
      for (String server : order) {
        measure("6a", "TCP `1\\n`, 1 connection, sequential", server, "built-in", Load.tcp(tcp(nodes.get(server)), 1));
      }
      for (String server : order) {
        measure("6b", "TCP `1\\n`, 50 connections", server, "built-in", Load.tcp(tcp(nodes.get(server)), 50));
      }
    }
    if (SuiteProcesses.debianPython() == null) {
      return;
    }
    // the classic articles' client: what one sequential Python connection sees, against the C responder as its limit
    String label = "TCP `1\\n`, 1 connection, sequential, perf.py";
    for (int r = 0; r < rounds; r++) {
      List<String> order = new ArrayList<>(nodes.keySet());
      order.add("C line responder");
      java.util.Collections.rotate(order, -r);
      for (String server : order) {
        if (server.equals("C line responder") && lineResponder == null) {
          continue;
        }
        int port = nodes.containsKey(server) ? nodes.get(server).tcpPort() : lineResponder.port;
        Sample s = SuiteProcesses.perfPy(peers, port, seconds);
        System.out.printf("   %-4s %-62s %-18s %10.0f round trips/s%n", "6c", label, server, s.rps());
        report.add("6c", label, server, "perf.py", s);
      }
    }
  }

  /**
   * 7: one prepared SELECT 1 per request on the embedded MariaDB, keep-alive (7) and a new connection per request
   * (7b), against the aiomysql server. {@code bench.dbVariants} (e.g. {@code 2x16,4x16,8x1,8x64}) adds nodes with
   * another pool size x pipelining limit on the same MariaDB, measured in the same rounds (wrk only, to keep the run
   * short).
   */
  void db() throws Exception {
    List<Target> t = new ArrayList<>(List.of(service("/db")));
    if (aiomysql != null) {
      t.add(new Target("aiomysql", aiomysql.http("/db"), aiomysql.process.toHandle()));
    }
    String variants = System.getProperty("bench.dbVariants", "");
    if (variants.isBlank()) {
      versus("7", "/db (SELECT 1) keep-alive c=100", t, true);
      versus("7b", "/db (SELECT 1) new connection per request c=100", t, false);
      return;
    }
    JsonObject db = new JsonObject(fetch(http(main, "/info"))).getJsonObject("database", new JsonObject());
    java.util.regex.Matcher port = java.util.regex.Pattern.compile(":(\\d+)").matcher(db.getString("target", ""));
    if (!port.find()) {
      throw new IllegalStateException("no database port in /info: " + db.encode());
    }
    for (String v : variants.split(",")) {
      String[] ps = v.trim().split("x");
      ServiceProcess node = startNode("db-" + v.trim(), List.of("--set", "mysql.host=127.0.0.1", "--set",
        "mysql.port=" + port.group(1), "--set", "mysql.passwordFile=" + Path.of("data", "bench-mariadb",
          "fib-service-password").toAbsolutePath(), "--set", "mysql.poolSize=" + ps[0], "--set",
        "mysql.pipeliningLimit=" + ps[1]));
      if (node == null) {
        throw new IllegalStateException("the /db node " + v + " did not start; see " + work.resolve("logs"));
      }
      bench.run(Load.http(http(node, "/db"), C, true), Duration.ofSeconds(3), Duration.ZERO);
      t.add(new Target("fib-service pool " + ps[0] + " pipelining " + ps[1], http(node, "/db"),
        ProcessHandle.of(node.pid()).orElse(null)));
    }
    if (wrk == null) {
      throw new IllegalStateException("bench.dbVariants needs wrk");
    }
    for (int r = 0; r < rounds; r++) {
      List<Target> order = new ArrayList<>(t);
      java.util.Collections.rotate(order, -r);
      for (boolean keepAlive : new boolean[] {true, false}) {
        for (Target x : order) {
          measure(keepAlive ? "7" : "7b", "/db (SELECT 1) " + (keepAlive ? "keep-alive" : "new connection per request")
            + " c=100", x.server(), "wrk", Load.http(x.url(), C, keepAlive), x.process());
        }
      }
    }
  }

  /** 8: HTTP verticle instances 1 vs cores, two fresh nodes (no DB), /hello keep-alive, alternating. */
  void instances() throws Exception {
    abNodes("8", "/hello keep-alive c=100",
      new String[] {"1 instance", "--instances", "1", "--set", "mysql.host=off"},
      new String[] {cores + " instances (cores)", "--instances", Integer.toString(cores), "--set", "mysql.host=off"});
  }

  /** The cost of metrics on /hello; skipped with a note while the jar has no metrics.enabled key. */
  void metrics() throws Exception {
    abNodes("M", "/hello keep-alive c=100",
      new String[] {"metrics on", "--set", "metrics.enabled=true", "--set", "mysql.host=off"},
      new String[] {"metrics off", "--set", "metrics.enabled=false", "--set", "mysql.host=off"});
  }

  /** Two fresh nodes that differ in one setting, side by side: same load, alternating order, median of rounds. */
  void abNodes(String id, String label, String[] a, String[] b) throws Exception {
    ServiceProcess na = startNode("node-" + id + "-a", List.of(a).subList(1, a.length));
    ServiceProcess nb = na == null ? null : startNode("node-" + id + "-b", List.of(b).subList(1, b.length));
    try {
      if (na == null || nb == null) {
        String log = Files.readString((na == null ? work.resolve("logs/node-" + id + "-a.log")
          : work.resolve("logs/node-" + id + "-b.log")));
        if (log.contains("unknown config key")) {
          report.note("Scenario " + id + " (" + a[0] + " vs " + b[0] + ") skipped: this jar does not know the config"
            + " key it needs (`" + SuiteProcesses.tail(log, 1).replaceAll(";\\s*known keys.*", "")
            + "`, exit code 2); it runs once the key exists.");
        }
        return;
      }
      for (ServiceProcess n : List.of(na, nb)) {
        bench.run(Load.http(http(n, "/hello"), C, true), Duration.ofSeconds(3), Duration.ZERO);
      }
      for (int r = 0; r < rounds; r++) {
        boolean aFirst = r % 2 == 0;
        for (int i = 0; i < 2; i++) {
          boolean isA = (i == 0) == aFirst;
          ServiceProcess n = isA ? na : nb;
          measure(id, label + ", " + (isA ? a[0] : b[0]), "fib-service", "built-in", Load.http(http(n, "/hello"), C, true));
        }
        // the built-in generator can be the bottleneck on a small box: wrk sees a server-side cost it would hide
        for (int i = 0; wrk != null && i < 2; i++) {
          boolean isA = (i == 0) == aFirst;
          ServiceProcess n = isA ? na : nb;
          measure(id, label + ", " + (isA ? a[0] : b[0]), "fib-service", "wrk", Load.http(http(n, "/hello"), C, true));
        }
      }
    } finally {
      if (nb != null) {
        nb.close();
      }
      if (na != null) {
        na.close();
      }
    }
  }

  /**
   * 5: isolation. p99 of /fib/10 and of TCP `1\n` at a fixed rate (latency from the intended send time), idle, then
   * again while a second generator keeps recursive fib(40) requests saturating the heavy workers.
   */
  void isolation() throws Exception {
    double rate = 500;
    Load fib10 = Load.http(http(main, "/fib/10"), 20, true).atRate(rate);
    Load tcp1 = Load.tcp(tcp(main), 10).atRate(rate);
    String l1 = "/fib/10 at " + (int) rate + " req/s";
    String l2 = "TCP `1\\n` at " + (int) rate + " req/s, 10 connections";
    measure("5a", l1 + ", idle", "fib-service", "built-in", fib10);
    measure("5b", l2 + ", idle", "fib-service", "built-in", tcp1);
    // enough fib(40) in flight to keep every heavy worker busy for the whole loaded phase
    Duration loaded = seconds.plus(warmup).multipliedBy(2).plusSeconds(8);
    BenchTool.Running bg = bench.start(Load.http(http(main, "/fib/40?algorithm=recursive"), 4 * cores, true)
      .withTimeout(Duration.ofSeconds(60)), loaded, Duration.ZERO);
    try {
      Thread.sleep(3000);
      measure("5a", l1 + ", loaded", "fib-service", "built-in", fib10);
      measure("5b", l2 + ", loaded", "fib-service", "built-in", tcp1);
    } finally {
      Sample heavy = BenchTool.finish(bg);
      report.add("5", "background: /fib/40?algorithm=recursive c=" + 4 * cores, "fib-service", "built-in", heavy);
    }
  }

  /**
   * 9: exact big Fibonacci end to end over HTTP, the engine alone in this JVM, and GMP as the physical limit, each
   * measured right beside the others. The service runs on nodes of its own without the result cache
   * ({@code fib.cacheBytes=0}): every request computes. Warm: the same node, interleaved with a twin node that differs
   * in {@code bench.bigfibVariant} (a config setting, e.g. {@code fib.heavyNice=0}), runs another build
   * ({@code bench.bigfibTwinJar}, e.g. main's jar against this one) or has a JVM option more
   * ({@code bench.bigfibTwinJvm}, e.g. {@code -Ddev.fibservice.compute.workers=1}) when one is given. Cold: the first F(10^6) of
   * each of {@code bench.coldNodes} fresh nodes, sent once {@code /health/ready} answers 200.
   */
  void bigFib() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    List<String> computing = List.of("--set", "mysql.host=off", "--set", "fib.cacheBytes=0");
    String setting = System.getProperty("bench.bigfibVariant", "");
    String twinJar = System.getProperty("bench.bigfibTwinJar", "");
    String twinJvm = System.getProperty("bench.bigfibTwinJvm", "");
    ServiceProcess node = startNode("bigfib", computing);
    List<String> twinArgs = new ArrayList<>(computing);
    if (!setting.isEmpty()) {
      twinArgs.addAll(List.of("--set", setting));
    }
    List<String> differs = new ArrayList<>();
    if (!setting.isEmpty()) {
      differs.add(setting);
    }
    if (!twinJar.isEmpty()) {
      differs.add("the jar " + twinJar);
    }
    if (!twinJvm.isEmpty()) {
      differs.add(twinJvm);
    }
    boolean twinned = !differs.isEmpty();
    String variant = String.join(", ", differs);
    ServiceProcess twin = !twinned ? null : startNode("bigfib-variant", twinArgs,
      twinJar.isEmpty() ? jar : Path.of(twinJar).toAbsolutePath(), twinJvm.isEmpty() ? List.of() : List.of(twinJvm));
    if (node == null || (twinned && twin == null)) {
      throw new IllegalStateException("the bigfib nodes did not start; see " + work.resolve("logs"));
    }
    if (!report.hasServiceInfo()) {
      report.serviceInfo(fetch(http(node, "/info")));
    }
    try (BigFibonacciBench.Gmp gmp = BigFibonacciBench.Gmp.start()) {
      if (gmp == null) {
        report.note("GMP rows skipped: no python3 with gmpy2 (`make bench` installs python3-gmpy2 with apt when run"
          + " as root).");
      }
      // the client warm first, on big bodies: a first request of java.net.http in this JVM costs tens of milliseconds
      // of its own, which are not the service's
      for (int i = 0; i < 20; i++) {
        client.send(HttpRequest.newBuilder(URI.create(http(node, "/hello?repeat=10000"))).timeout(Duration.ofSeconds(60))
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      }
      coldBigFib(client, gmp, computing);
      for (int n : new int[] {1_000_000, 10_000_000}) {
        int reps = n >= 10_000_000 ? 3 : Integer.getInteger("bench.bigfibReps", 7);
        double[] http = new double[reps];
        double[] twinMs = new double[reps];
        double[] engine = new double[reps];
        double[] gmpMs = new double[reps];
        // CPU time (user + system, from /proc in 10 ms ticks: summed over the runs) of each node, and GMP's, per F(n)
        double nodeCpu = 0;
        double twinCpu = 0;
        double[] gmpCpu = new double[reps];
        ProcessHandle nodeProcess = ProcessHandle.of(node.pid()).orElse(null);
        ProcessHandle twinProcess = twin == null ? null : ProcessHandle.of(twin.pid()).orElse(null);
        long digits = 0;
        String engineSha = null;
        String gmpSha = null;
        for (int i = -1; i < reps; i++) { // one warm-up round
          double[] t = new double[2];
          long[] http0 = new long[1];
          long[] twin0 = new long[1];
          // the twin first every other round: neither node always follows the other's garbage
          double[] cpu = new double[2];
          if (twin != null && (i & 1) == 1) {
            cpu[1] = cpuOf(twinProcess, () -> timedGet(client, twin, n, twin0));
          }
          List<HttpResponse<byte[]>> got = new ArrayList<>(1);
          cpu[0] = cpuOf(nodeProcess, () -> got.add(timedGet(client, node, n, http0)));
          HttpResponse<byte[]> resp = got.get(0);
          if (twin != null && (i & 1) == 0) {
            cpu[1] = cpuOf(twinProcess, () -> timedGet(client, twin, n, twin0));
          }
          double twinTime = twin == null ? Double.NaN : twin0[0] / 1e6;
          digits = resp.body().length - 1;
          engineSha = BigFibonacciBench.runEngine(n, t, false);
          String[] g = gmp == null ? null : gmp.run(n);
          if (i >= 0) {
            http[i] = http0[0] / 1e6;
            twinMs[i] = twinTime;
            engine[i] = t[0] + t[1];
            gmpMs[i] = g == null ? Double.NaN : Double.parseDouble(g[0]) + Double.parseDouble(g[1]);
            gmpCpu[i] = g == null || g.length < 4 ? Double.NaN : Double.parseDouble(g[3]);
            nodeCpu += cpu[0];
            twinCpu += cpu[1];
          }
          gmpSha = g == null ? null : g[2];
        }
        double gmpCpuMs = SuiteReport.median(gmpCpu);
        report.note(String.format(Locale.ROOT, "F(%,d) CPU per request (user + system of the whole node over the %d runs,"
          + " /proc ticks): %.1f ms%s, against GMP's process time %.1f ms (%.2f×)", n, reps, nodeCpu * 1e3 / reps,
          twin == null ? "" : String.format(Locale.ROOT, "; with %s %.1f ms", variant, twinCpu * 1e3 / reps),
          gmpCpuMs, nodeCpu * 1e3 / reps / gmpCpuMs));
        report.bigFib(n, digits, SuiteReport.median(http), SuiteReport.median(engine),
          gmp == null ? Double.NaN : SuiteReport.median(gmpMs), gmp == null ? null : gmp.version,
          gmpSha == null ? null : gmpSha.equals(engineSha), reps);
        System.out.printf("   F(%,d): HTTP %.1f ms, engine %.1f ms, GMP %.1f ms%s%n", n, SuiteReport.median(http),
          SuiteReport.median(engine), gmp == null ? Double.NaN : SuiteReport.median(gmpMs),
          twin == null ? "" : String.format(Locale.ROOT, ", HTTP with %s %.1f ms", variant, SuiteReport.median(twinMs)));
        if (twin != null) {
          report.note(String.format(Locale.ROOT, "F(%,d) warm over HTTP, interleaved: default %.1f ms, with `%s` %.1f"
            + " ms (medians of %d; each: %s vs %s)", n, SuiteReport.median(http), variant, SuiteReport.median(twinMs),
            reps, Arrays.toString(round1(http)), Arrays.toString(round1(twinMs))));
        }
      }
    } finally {
      if (twin != null) {
        twin.close();
      }
      node.close();
    }
  }

  /** {@code GET /fib/n} as text from this node, checked; its time to the last byte in {@code nanos[0]}. */
  private HttpResponse<byte[]> timedGet(HttpClient client, ServiceProcess node, int n, long[] nanos) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(http(node, "/fib/" + n))).header("Accept", "text/plain")
      .timeout(Duration.ofSeconds(60)).build();
    long t0 = System.nanoTime();
    HttpResponse<byte[]> resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
    nanos[0] = System.nanoTime() - t0;
    if (resp.statusCode() != 200) {
      throw new IllegalStateException("GET /fib/" + n + ": " + resp.statusCode());
    }
    return resp;
  }

  interface Call {
    void run() throws Exception;
  }

  /** The CPU seconds {@code process} spent while {@code call} ran. */
  private static double cpuOf(ProcessHandle process, Call call) throws Exception {
    double cpu0 = Cpu.seconds(process);
    call.run();
    return Cpu.seconds(process) - cpu0;
  }

  private static double[] round1(double[] v) {
    return Arrays.stream(v).map(d -> Math.round(d * 10) / 10.0).toArray();
  }

  /**
   * Cold: fresh nodes one after the other, each asked its first F(10^6) as soon as {@code /health/ready} answers 200
   * (ready means warm: its warm-ups ended or fib.warmupWaitMs passed, which its readiness says), then GMP three times
   * right after it, for the ratio of that run.
   */
  private void coldBigFib(HttpClient client, BigFibonacciBench.Gmp gmp, List<String> computing) throws Exception {
    int nodes = Integer.getInteger("bench.coldNodes", 3);
    List<double[]> runs = new ArrayList<>();
    List<String> finished = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      ServiceProcess fresh = startNode("cold-" + i, computing);
      if (fresh == null) {
        continue;
      }
      try {
        HttpRequest ready = HttpRequest.newBuilder(URI.create(http(fresh, "/health/ready")))
          .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        HttpResponse<String> r = client.send(ready, HttpResponse.BodyHandlers.ofString());
        while (r.statusCode() != 200 && System.nanoTime() < deadline) {
          Thread.sleep(10);
          r = client.send(ready, HttpResponse.BodyHandlers.ofString());
        }
        long[] nanos = new long[1];
        timedGet(client, fresh, 1_000_000, nanos);
        double[] g = new double[3];
        for (int k = 0; k < g.length; k++) {
          String[] run = gmp == null ? null : gmp.run(1_000_000);
          g[k] = run == null ? Double.NaN : Double.parseDouble(run[0]) + Double.parseDouble(run[1]);
        }
        runs.add(new double[] {nanos[0] / 1e6, SuiteReport.median(g)});
        finished.add(warmupFinished(r.body()));
        System.out.printf("   F(1,000,000) cold #%d: HTTP %.1f ms, GMP beside it %.1f ms (warm-ups %s)%n", i,
          nanos[0] / 1e6, SuiteReport.median(g), finished.get(finished.size() - 1));
      } finally {
        fresh.close();
      }
    }
    if (!runs.isEmpty()) {
      report.bigFibCold(1_000_000, runs, finished);
    }
  }

  /** What readiness's warmup check says in its body: whether the warm-ups ended before it stopped waiting. */
  private static String warmupFinished(String readyBody) {
    try {
      for (Object c : new JsonObject(readyBody).getJsonArray("checks")) {
        JsonObject check = (JsonObject) c;
        if ("warmup".equals(check.getString("id"))) {
          return Boolean.TRUE.equals(check.getJsonObject("data", new JsonObject()).getBoolean("finished"))
            ? "ended" : "not ended (fib.warmupWaitMs passed)";
        }
      }
    } catch (RuntimeException e) {
      // an older jar's body
    }
    return "unknown";
  }

  /** A scenario of the result cache and the shared computations, on nodes of its own, stopped after it. */
  void cache(CacheRun run) throws Exception {
    try (CacheScenario scenario = new CacheScenario(this)) {
      run.run(scenario);
    }
  }

  interface CacheRun {
    void run(CacheScenario scenario) throws Exception;
  }

  /** T: tracing off, on with sampling 0, on with sampling 1, side by side on nodes of their own. */
  void tracing() throws Exception {
    try (TracingScenario scenario = new TracingScenario(this)) {
      scenario.run();
    }
  }

  /** The cluster: worker members of a fixed size added behind one front, then fronts sharing the load. */
  void cluster() throws Exception {
    ClusterScenario scenario = new ClusterScenario(jar, work, seconds, rounds, report);
    open.add(scenario);
    try {
      scenario.run();
    } finally {
      scenario.close();
    }
  }

  /** Background jobs against Celery: {@link JobsRace}. */
  void jobs() throws Exception {
    try (JobsRace race = new JobsRace(this)) {
      race.run();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------------------------

  static String http(ServiceProcess node, String pathAndQuery) {
    return "http://127.0.0.1:" + node.httpPort() + pathAndQuery;
  }

  static String tcp(ServiceProcess node) {
    return "tcp://127.0.0.1:" + node.tcpPort();
  }

  void measure(String id, String label, String server, String generator, Load load) throws Exception {
    measure(id, label, server, generator, load, null);
  }

  /** A run; with wrk and the server's process, also the server's CPU per request (wrk has no warm-up to blur it). */
  void measure(String id, String label, String server, String generator, Load load, ProcessHandle serverProcess)
    throws Exception {
    double cpu0 = Cpu.seconds(serverProcess);
    Sample s = "wrk".equals(generator) ? wrk.run(load, seconds) : bench.run(load, seconds, warmup);
    if (serverProcess != null && "wrk".equals(generator)) {
      s = s.withServerCpu(Cpu.seconds(serverProcess) - cpu0);
    }
    System.out.printf("   %-4s %-62s %-12s %-8s %10.0f req/s  p99 %8.2f ms%s%n", id, label, server, generator, s.rps(),
      s.p99Ms(), s.errors() == 0 ? "" : "  errors " + s.errors() + " " + s.detail());
    report.add(id, label, server, generator, s);
  }

  static String fetch(String url) throws Exception {
    return new String(fetchBytes(url), java.nio.charset.StandardCharsets.UTF_8);
  }

  static byte[] fetchBytes(String url) throws Exception {
    return get(url).body();
  }

  static HttpResponse<byte[]> get(String url) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
      HttpResponse.BodyHandlers.ofByteArray());
  }

  static String today() {
    return LocalDate.now().toString();
  }

  static String now() {
    return java.time.OffsetDateTime.now().withNano(0).toString();
  }
}
