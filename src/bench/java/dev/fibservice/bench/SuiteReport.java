package dev.fibservice.bench;

import dev.fibservice.bench.SuiteProcesses.Sample;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Collects the suite's numbers and writes {@code bench/results/<date>.md}, its PNG charts and the raw JSON. */
final class SuiteReport {

  /** One table row: a scenario, a server and a generator, with the samples of every round. */
  static final class Row {
    final String id;
    final String label;
    final String server;
    final String generator;
    final List<Sample> samples = new ArrayList<>();

    Row(String id, String label, String server, String generator) {
      this.id = id;
      this.label = label;
      this.server = server;
      this.generator = generator;
    }

    double rps() {
      return med(Sample::rps);
    }

    double p50() {
      return med(Sample::p50Ms);
    }

    double p99() {
      return med(Sample::p99Ms);
    }

    double serverCpuMicros() {
      double[] v = samples.stream().filter(Sample::ok).mapToDouble(Sample::serverCpuMicros).filter(d -> !Double.isNaN(d))
        .toArray();
      return v.length == 0 ? Double.NaN : median(v);
    }

    long errors() {
      return samples.stream().mapToLong(s -> Math.max(0, s.errors())).sum();
    }

    boolean fixedRate() {
      return label.contains(" at ") && label.contains("req/s");
    }

    private double med(ToDoubleFunction<Sample> f) {
      double[] v = samples.stream().filter(Sample::ok).mapToDouble(f).toArray();
      return v.length == 0 ? Double.NaN : median(v);
    }
  }

  record BigFibRow(int n, long digits, double httpMs, double engineMs, double gmpMs, String gmpVersion, Boolean same,
                   int reps) {
  }

  private final Path outDir;
  private final Duration seconds;
  private final Duration warmup;
  private final int rounds;
  private final Map<String, Row> rows = new LinkedHashMap<>();
  private final List<BigFibRow> bigFib = new ArrayList<>();
  private final Map<Integer, Double> bigFibCold = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  /** Targets and sections a scenario writes itself (the cache scenarios): {what, measured, status}, {title, body}. */
  private final List<String[]> ownTargets = new ArrayList<>();
  private final List<String[]> sections = new ArrayList<>();
  private final JsonObject sectionsJson = new JsonObject();
  private final List<String> machine = new ArrayList<>();
  private final String loadBefore = loadAverage();
  private final String started = BenchSuite.now();
  private int cores;
  private String serviceInfo = "";
  private String nginxVersion;

  SuiteReport(Path outDir, Duration seconds, Duration warmup, int rounds) {
    this.outDir = outDir;
    this.seconds = seconds;
    this.warmup = warmup;
    this.rounds = rounds;
  }

  void machine(int cores, SuiteProcesses.Wrk wrk) {
    this.cores = cores;
    machine.add("CPU: " + cores + " cores (" + cpuModel() + "), " + memory() + " RAM, Linux " + System.getProperty(
      "os.version"));
    machine.add("JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
      + " (service, built-in generator and harness; default JVM flags, as `make run`)");
    machine.add("wrk: " + (wrk == null ? "not installed" : wrk.version));
  }

  boolean hasServiceInfo() {
    return !serviceInfo.isEmpty();
  }

  void serviceInfo(String infoJson) {
    JsonObject j = new JsonObject(infoJson);
    JsonObject w = j.getJsonObject("workers", new JsonObject());
    serviceInfo = "fib-service " + j.getValue("version") + " (Vert.x " + j.getValue("vertx") + ", JVM " + j.getValue("jvm")
      + "), transport " + j.getValue("transport") + ", " + j.getValue("instances") + " HTTP and TCP instances, "
      + j.getValue("eventLoops") + " event loops, heavy workers " + w.getValue("heavy") + ", light workers "
      + w.getValue("light") + ", database " + j.getJsonObject("database", new JsonObject()).getValue("target");
  }

  void nginx(String version, int workers, int helloBytes, int bigBytes, String contentType) {
    nginxVersion = version;
    machine.add("nginx: " + version + ", " + workers + " workers, access log off, keepalive_requests 100000000 (never"
      + " closes a benchmark connection). `nginx`: `location = /hello { return 200 \"<the page>\"; }` with"
      + " `default_type \"" + contentType + "\"`, the service's own /hello bytes (" + helloBytes + " B) from memory;"
      + " `nginx files`: the same bytes and the /hello?repeat=10000 bytes (" + bigBytes + " B) from files through"
      + " `try_files` with sendfile on, at /file/hello; all checked byte for byte");
  }

  void peers(String python, boolean lineResponder, boolean aiomysql) {
    if (python != null) {
      machine.add("Python peers (bench/peers/, " + python + " " + pythonVersion(python) + "): `python socketserver`,"
        + " a socketserver.TCPServer whose handler does one recv, sends the page with `Connection: close` and returns;"
        + " `perf.py`, one connection, sequential `1\\n` round trips"
        + (aiomysql ? "; `aiomysql`, asyncio HTTP with a new aiomysql connection per request doing SELECT 1 on the"
        + " suite's embedded MariaDB" : ""));
    }
    if (lineResponder) {
      machine.add("C line responder: bench/peers/line_responder.c compiled here with `cc -O2`: answers `1\\n` to"
        + " every line, blocking I/O, one connection at a time (the most a sequential client can measure)");
    }
  }

  private static String pythonVersion(String python) {
    String v = SuiteProcesses.exec(java.time.Duration.ofSeconds(10), python, "--version");
    return v == null ? "" : v.trim().replace("Python ", "");
  }

  void bigFibCold(int n, double ms) {
    bigFibCold.put(n, ms);
  }

  void note(String note) {
    notes.add(note);
    System.out.println("   note: " + note);
  }

  /** A target a scenario judges itself. */
  void target(String what, String measured, boolean met) {
    ownTargets.add(new String[] {what, measured, met ? "**met**" : "**not met**"});
  }

  /** A section of its own (markdown after "All scenarios"), and its raw numbers in the JSON under {@code key}. */
  void section(String title, String markdown, String key, Object raw) {
    sections.add(new String[] {title, markdown});
    sectionsJson.put(key, raw);
  }

  /** The ratio of two req/s rows measured with wrk, as the targets table shows it (for a scenario's own target). */
  String[] versusWrk(String what, String id, String server, String peer, double min) {
    Row a = row(id, server, "wrk");
    Row b = row(id, peer, "wrk");
    double r = rps(a) / rps(b);
    return new String[] {what, Double.isNaN(r) ? "n/a (not run)" : x(r) + " (wrk: " + num(rps(a)) + " vs " + num(rps(b))
      + " req/s, p99 " + ms(a.p99()) + " vs " + ms(b.p99()) + " ms)", status(r, min, true)};
  }

  /** Adds a row made by {@link #versusWrk} to the targets. */
  void target(String[] row) {
    ownTargets.add(row);
  }

  void add(String id, String label, String server, String generator, Sample s) {
    rows.computeIfAbsent(id + "|" + label + "|" + server + "|" + generator, k -> new Row(id, label, server, generator))
      .samples.add(s);
  }

  void bigFib(int n, long digits, double httpMs, double engineMs, double gmpMs, String gmpVersion, Boolean same,
              int reps) {
    bigFib.add(new BigFibRow(n, digits, httpMs, engineMs, gmpMs, gmpVersion, same, reps));
  }

  // ---- targets -----------------------------------------------------------------------------------------------------

  private Row row(String id, String server, String generator) {
    return rows.values().stream().filter(r -> r.id.equals(id) && r.server.equals(server)
      && r.generator.equals(generator)).findFirst().orElse(null);
  }

  private Row rowLabel(String id, String labelPart) {
    return rows.values().stream().filter(r -> r.id.equals(id) && r.label.contains(labelPart)).findFirst().orElse(null);
  }

  private static double rps(Row r) {
    return r == null ? Double.NaN : r.rps();
  }

  private static String x(double v) {
    return String.format(Locale.ROOT, "%.2f×", v);
  }

  private static String status(double v, double limit, boolean atLeast) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return (atLeast ? v >= limit : v <= limit) ? "**met**" : "**not met**";
  }

  private Row metricsRow(String labelPart, String generator) {
    return rows.values().stream().filter(r -> r.id.equals("M") && r.label.contains(labelPart)
      && r.generator.equals(generator)).findFirst().orElse(null);
  }

  /**
   * The targets, judged on wrk (the reference generator) for the HTTP rows; the built-in generator's ratio is shown
   * beside it.
   */
  private List<String[]> targets() {
    List<String[]> t = new ArrayList<>();
    t.add(versus("`/hello` keep-alive, wrk -t1 -c100: ≥ 1.0× nginx `return 200`", "1", "nginx", 1.0));
    t.add(versus("`/hello`, a new connection per request: ≥ 1.0× nginx `return 200`", "2", "nginx", 1.0));
    t.add(versus("`/hello`, a new connection per request: ≥ 1.0× the Python socketserver hello", "2",
      "python socketserver", 1.0));
    Row tcp = row("6c", "fib-service", "perf.py");
    Row c = row("6c", "C line responder", "perf.py");
    double tr = rps(tcp) / rps(c);
    t.add(new String[] {"TCP `1\\n`, one connection, sequential (perf.py): ≥ 0.9× the C line responder",
      Double.isNaN(tr) ? "n/a (not run)" : x(tr) + " (" + num(rps(tcp)) + " vs " + num(rps(c)) + " round trips/s)",
      status(tr, 0.9, true)});
    for (String[] m : new String[][] {{"1", "keep-alive"}, {"2", "per connection"}}) {
      Row b = row(m[0], "nginx", "built-in");
      Row w = row(m[0], "nginx", "wrk");
      double r = rps(b) / rps(w);
      t.add(new String[] {"the built-in load tool, one thread, vs wrk -t1 -c100 against nginx `return 200`, " + m[1]
        + ": ≥ 0.9×", Double.isNaN(r) ? "n/a (not run)" : x(r) + " (" + num(rps(b)) + " vs " + num(rps(w)) + " req/s)",
        status(r, 0.9, true)});
    }
    BigFibRow f6 = bigFib.stream().filter(b -> b.n() == 1_000_000).findFirst().orElse(null);
    BigFibRow f7 = bigFib.stream().filter(b -> b.n() == 10_000_000).findFirst().orElse(null);
    Double cold = bigFibCold.get(1_000_000);
    double coldRatio = cold == null || f6 == null ? Double.NaN : cold / f6.gmpMs();
    t.add(new String[] {"exact F(10^6) over HTTP, cold (first request of a fresh service, right after ready): ≤ 3× GMP",
      Double.isNaN(coldRatio) ? "n/a (not run)" : x(coldRatio) + " (" + ms(cold) + " ms vs GMP " + ms(f6.gmpMs())
      + " ms)", status(coldRatio, 3, false)});
    double warm6 = f6 == null ? Double.NaN : f6.httpMs() / f6.gmpMs();
    t.add(new String[] {"exact F(10^6) over HTTP, warm: ≤ 1.5× GMP", Double.isNaN(warm6) ? "n/a (not run)"
      : x(warm6) + " (" + ms(f6.httpMs()) + " ms vs " + ms(f6.gmpMs()) + " ms)", status(warm6, 1.5, false)});
    double warm7 = f7 == null ? Double.NaN : f7.httpMs() / f7.gmpMs();
    t.add(new String[] {"exact F(10^7) over HTTP, warm: ≤ 0.6× GMP", Double.isNaN(warm7) ? "n/a (not run)"
      : x(warm7) + " (" + ms(f7.httpMs()) + " ms vs " + ms(f7.gmpMs()) + " ms)", status(warm7, 0.6, false)});
    t.add(versus("`/db` keep-alive: ≥ 5× the aiomysql server (a database connection per request)", "7", "aiomysql",
      5.0));
    t.add(versus("220 KB page keep-alive, c=100: ≥ 0.95× nginx serving the file", "3a", "nginx files", 0.95));
    t.add(isolation("Isolation `/fib/10`: loaded p99 ≤ 2× idle p99", "5a"));
    t.add(isolation("Isolation TCP `1\\n`: loaded p99 ≤ 2× idle p99", "5b"));
    t.addAll(ownTargets);
    return t;
  }

  /** fib-service / peer in req/s: judged on wrk, the built-in generator's ratio beside it. */
  private String[] versus(String what, String id, String peer, double min) {
    double w = rps(row(id, "fib-service", "wrk")) / rps(row(id, peer, "wrk"));
    double b = rps(row(id, "fib-service", "built-in")) / rps(row(id, peer, "built-in"));
    if (Double.isNaN(w) && Double.isNaN(b)) {
      boolean ran = rows.values().stream().anyMatch(r -> r.id.equals(id));
      return new String[] {what, "n/a (" + (ran && nginxVersion == null && peer.startsWith("nginx")
        ? "nginx not installed" : "not run") + ")", "n/a"};
    }
    String measured = (Double.isNaN(w) ? "n/a" : x(w)) + " (wrk: " + num(rps(row(id, "fib-service", "wrk"))) + " vs "
      + num(rps(row(id, peer, "wrk"))) + " req/s)" + (Double.isNaN(b) ? "" : ", " + x(b) + " (built-in)");
    return new String[] {what, measured, status(Double.isNaN(w) ? b : w, min, true)};
  }

  private String[] isolation(String what, String id) {
    Row idle = rowLabel(id, ", idle");
    Row loaded = rowLabel(id, ", loaded");
    if (idle == null || loaded == null || Double.isNaN(idle.p99()) || Double.isNaN(loaded.p99())) {
      return new String[] {what, "n/a (not run)", "n/a"};
    }
    double r = loaded.p99() / idle.p99();
    return new String[] {what, String.format(Locale.ROOT, "%.2f× (p99 %s ms idle, %s ms loaded)", r, ms(idle.p99()),
      ms(loaded.p99())), r <= 2.0 ? "**met**" : "**not met**"};
  }

  // ---- output ------------------------------------------------------------------------------------------------------

  Path write(Duration took) throws IOException {
    Files.createDirectories(outDir);
    // bench.tag names a run of some scenarios apart from the day's full run: <date>-<tag>.md
    String tag = System.getProperty("bench.tag", "");
    String date = BenchSuite.today() + (tag.isEmpty() ? "" : "-" + tag);
    Path md = outDir.resolve(date + ".md");
    String rpsPng = date + "-throughput.png";
    String p99Png = date + "-p99.png";
    chart(outDir.resolve(rpsPng), "req/s per scenario (median of rounds; log scale)", "req/s", Row::rps, false);
    chart(outDir.resolve(p99Png), "p99 latency per scenario (median of rounds; log scale)", "p99 ms", Row::p99, true);
    Files.writeString(outDir.resolve(date + ".json"), rawJson(took).encodePrettily() + "\n");
    Files.writeString(md, markdown(date, took, rpsPng, p99Png));
    return md;
  }

  private String markdown(String date, Duration took, String rpsPng, String p99Png) {
    StringBuilder sb = new StringBuilder();
    sb.append("# fib-service benchmark, ").append(date).append("\n\n");
    sb.append("`make bench`, started ").append(started).append(", took ").append(took.toMinutes()).append(" min ")
      .append(took.toSecondsPart()).append(" s. All numbers below come from this one run.\n\n");
    sb.append("## Machine\n\n");
    for (String m : machine) {
      sb.append("- ").append(m).append('\n');
    }
    sb.append("- Service: ").append(serviceInfo).append('\n');
    sb.append("- Load average (1, 5, 15 min) before: ").append(loadBefore).append(", after: ").append(loadAverage())
      .append(". Server and load generators share the same ").append(cores).append(" cores over loopback.\n\n");

    sb.append("## Targets\n\n| target | measured | status |\n|---|---|---|\n");
    for (String[] t : targets()) {
      sb.append("| ").append(String.join(" | ", t)).append(" |\n");
    }
    sb.append("\n");

    sb.append("## Headline figures\n\n");
    headline(sb, "`/hello` keep-alive req/s", row("1", "fib-service", "built-in"), true);
    headline(sb, "`/fib/30?algorithm=recursive` req/s", row("4a", "fib-service", "built-in"), true);
    headline(sb, "TCP `1\\n` round trips/s on one connection", row("6a", "fib-service", "built-in"), true);
    headline(sb, "`/db` req/s", row("7", "fib-service", "built-in"), true);
    sb.append("- Metrics cost on `/hello` keep-alive: ");
    boolean measured = false;
    for (String gen : List.of("built-in", "wrk")) {
      Row on = metricsRow("metrics on", gen);
      Row off = metricsRow("metrics off", gen);
      if (on != null && off != null) {
        sb.append(measured ? "; " : "").append(String.format(Locale.ROOT, "on %s req/s vs off %s req/s = %.2f× (%s)",
          num(on.rps()), num(off.rps()), on.rps() / off.rps(), gen));
        measured = true;
      }
    }
    sb.append(measured ? "" : "not measured (see notes)").append("\n\n");

    sb.append("## All scenarios\n\n");
    sb.append("req/s, p50 and p99 are medians over the rounds; `rounds` lists each round's req/s. Fixed-rate rows"
      + " (isolation) report latency from the intended send time (corrected for coordinated omission); their req/s"
      + " is the offered rate. `server CPU` is the server's CPU time (user + system, all its processes, from /proc) per"
      + " request, measured on the wrk runs of the A/B rows: the cost of a request to the server, whatever the"
      + " generator's share of the cores.\n\n");
    sb.append("| # | scenario | server | generator | req/s | p50 ms | p99 ms | server CPU µs/req | errors | rounds (req/s) |\n");
    sb.append("|---|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for (Row r : rows.values()) {
      StringBuilder each = new StringBuilder();
      for (Sample s : r.samples) {
        each.append(each.length() == 0 ? "" : ", ").append(s.ok() ? num(s.rps()) : "failed: " + s.detail());
      }
      sb.append("| ").append(r.id).append(" | ").append(r.label).append(" | ").append(r.server).append(" | ")
        .append(r.generator).append(" | ").append(num(r.rps())).append(" | ").append(ms(r.p50())).append(" | ")
        .append(ms(r.p99())).append(" | ").append(Double.isNaN(r.serverCpuMicros()) ? "" : ms(r.serverCpuMicros()))
        .append(" | ").append(r.errors()).append(" | ").append(each).append(" |\n");
    }
    sb.append("\n");

    for (String[] section : sections) {
      sb.append("## ").append(section[0]).append("\n\n").append(section[1]).append("\n");
    }

    if (!bigFib.isEmpty()) {
      sb.append("## 9. Exact big Fibonacci (compute + all decimal digits)\n\n");
      sb.append("| n | digits | HTTP end to end ms | engine alone ms | GMP ms | HTTP / GMP | engine / GMP | same digits"
        + " as GMP |\n|---:|---:|---:|---:|---:|---:|---:|---|\n");
      for (BigFibRow b : bigFib) {
        sb.append(String.format(Locale.ROOT, "| %,d | %,d | %s | %s | %s | %s | %s | %s |%n", b.n(), b.digits(),
          ms(b.httpMs()), ms(b.engineMs()), ms(b.gmpMs()), ratioText(b.httpMs(), b.gmpMs()),
          ratioText(b.engineMs(), b.gmpMs()), b.same() == null ? "n/a" : b.same() ? "yes" : "NO"));
      }
      for (Map.Entry<Integer, Double> e : bigFibCold.entrySet()) {
        sb.append(String.format(Locale.ROOT, "%nCold: the first F(%,d) request of a fresh service (started with"
          + " `--set mysql.host=off`, sent as soon as it logged ready, by a client warmed on the main node): %s ms over"
          + " HTTP.%n", e.getKey(), ms(e.getValue())));
      }
      BigFibRow any = bigFib.get(0);
      sb.append("\nMedians of ").append(any.reps()).append(" runs (3 for 10^7) after one warm-up. HTTP: `GET /fib/n` with"
        + " `Accept: text/plain` from the harness (java.net.http), time to the last byte. Engine: `BigFibonacci.fib` +"
        + " `decimal` in the harness JVM. GMP: ").append(any.gmpVersion() == null ? "not available"
        : "GMP " + any.gmpVersion() + " via python3-gmpy2, `gmpy2.fib(n).digits()`, timed inside python").append(
        ".\n\n");
    }

    sb.append("## Charts\n\n![req/s](").append(rpsPng).append(")\n\n![p99](").append(p99Png).append(")\n\n");

    sb.append("## Method\n\n");
    sb.append("- Fresh service processes from `target/fib-service.jar` on 127.0.0.1 (free ports): `main` with its"
      + " defaults (embedded MariaDB on its own port and data dir); the A/B scenarios (8, metrics) start two extra"
      + " fresh nodes without a database and compare them side by side. nginx runs as a non-daemon master with its own"
      + " config in a temp dir.\n");
    sb.append("- Load: the built-in tool (`java -jar target/fib-service.jar bench ... --json`) as its own JVM for every"
      + " run, so each measurement starts from the same client state and the harness's own work (charts, HTTP"
      + " clients, the in-process engine runs) never shares a heap or GC with it; plus `wrk` where installed."
      + " Both run one thread (`--threads 1`, `wrk -t1`): one core for the generator, one for the server. Both open"
      + " their connections before measuring. The Python rows use the peers' own clients where the issue does"
      + " (`perf.py` for the sequential TCP row).\n");
    sb.append(String.format(Locale.ROOT, "- Each built-in run: %d s warm-up (discarded) + %d s measured; wrk: %d s"
      + " measured (the target is warm from the built-in run just before). Whole-suite warm-up first (3 s per"
      + " path). Side-by-side comparisons run %d rounds, rotating which server goes first, and report the"
      + " median of the rounds; c=%d unless the row says otherwise.%n", warmup.toSeconds(), seconds.toSeconds(),
      seconds.toSeconds(), rounds, BenchSuite.C));
    sb.append("- Isolation (5): p99 at a fixed rate of 500 req/s, first idle, then while a second generator keeps"
      + " 4 × cores recursive fib(40) requests in flight (every heavy worker busy). The generator runs on the same"
      + " cores, so the loaded p99 includes its own wait for a CPU as well as the service's.\n");
    sb.append("- The built-in tool costs several times more CPU per request than wrk and takes it from the cores the"
      + " servers run on: its absolute req/s are lower and its ratios are pulled towards 1 where it is the"
      + " bottleneck; wrk is the reference generator: the targets are judged on its ratios, the built-in's are shown"
      + " beside them.\n");
    sb.append("- The machine is shared (other engineers build and test on it): absolute numbers are noisy; compare the"
      + " ratios measured side by side within this run.\n\n");

    if (!notes.isEmpty()) {
      sb.append("## Notes\n\n");
      for (String n : notes) {
        sb.append("- ").append(n).append('\n');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static void headline(StringBuilder sb, String what, Row r, boolean withP99) {
    sb.append("- ").append(what).append(": ").append(r == null ? "not measured" : num(r.rps())
      + (withP99 ? " (p99 " + ms(r.p99()) + " ms)" : "")).append('\n');
  }

  /** One bar per scenario row, grouped by server and generator; fixed-rate rows are left out of the req/s chart. */
  private void chart(Path file, String title, String yTitle, ToDoubleFunction<Row> value, boolean latency)
    throws IOException {
    List<String> categories = new ArrayList<>();
    Map<String, Map<String, Double>> series = new LinkedHashMap<>();
    for (Row r : rows.values()) {
      if (!latency && r.fixedRate()) {
        continue;
      }
      if (r.label.startsWith("background")) {
        continue;
      }
      String cat = r.id + " " + shortLabel(r.label);
      if (!categories.contains(cat)) {
        categories.add(cat);
      }
      double v = value.applyAsDouble(r);
      if (!Double.isNaN(v) && v > 0) {
        series.computeIfAbsent(r.server + " · " + r.generator, k -> new LinkedHashMap<>()).put(cat, v);
      }
    }
    CategoryChart chart = new CategoryChartBuilder().width(1600).height(900).title(title).xAxisTitle("scenario")
      .yAxisTitle(yTitle).build();
    Styler s = chart.getStyler();
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setXAxisLabelRotation(35);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setOverlapped(false);
    chart.getStyler().setAvailableSpaceFill(0.8);
    // a log axis only labels decades: print each bar's value on it
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setDecimalPattern(latency ? "#,##0.##" : "#,##0");
    chart.getStyler().setYAxisDecimalPattern(latency ? "#,##0.##" : "#,##0");
    chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
    chart.getStyler().setLabelsFontColor(java.awt.Color.BLACK);
    chart.getStyler().setLabelsRotation(90);
    s.setChartBackgroundColor(java.awt.Color.WHITE);
    // a log axis needs an explicit floor, else XChart draws bars from 0 and refuses
    double min = series.values().stream().flatMap(m -> m.values().stream()).mapToDouble(Double::doubleValue).min()
      .orElse(1);
    chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
    if (categories.isEmpty()) {
      categories.add("(no data)");
    }
    for (Map.Entry<String, Map<String, Double>> e : series.entrySet()) {
      List<Double> ys = new ArrayList<>();
      for (String c : categories) {
        ys.add(e.getValue().get(c));
      }
      chart.addSeries(e.getKey(), categories, ys);
    }
    if (series.isEmpty()) {
      chart.addSeries("none", categories, List.of(1.0));
    }
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static String shortLabel(String label) {
    return label.replace("new connection per request", "per-conn").replace("keep-alive", "ka")
      .replace("?algorithm=recursive", " rec").replace(" c=100", "").replace("(220 KB) ", "")
      .replace("/hello?repeat=10000", "220KB").replace(", sequential", "").replace(" connections", " conns")
      .replace(" connection", " conn").replace(" at 500 req/s", "").replace("(SELECT 1)", "").replace("`", "");
  }

  private JsonObject rawJson(Duration took) {
    JsonArray arr = new JsonArray();
    for (Row r : rows.values()) {
      JsonArray samples = new JsonArray();
      for (Sample s : r.samples) {
        samples.add(new JsonObject().put("rps", finite(s.rps())).put("p50Ms", finite(s.p50Ms()))
          .put("p99Ms", finite(s.p99Ms())).put("serverCpuMicros", finite(s.serverCpuMicros()))
          .put("errors", s.errors()).put("completed", s.completed())
          .put("detail", s.detail()));
      }
      arr.add(new JsonObject().put("id", r.id).put("scenario", r.label).put("server", r.server)
        .put("generator", r.generator).put("rps", finite(r.rps())).put("p50Ms", finite(r.p50()))
        .put("p99Ms", finite(r.p99())).put("samples", samples));
    }
    JsonArray big = new JsonArray();
    for (BigFibRow b : bigFib) {
      big.add(new JsonObject().put("n", b.n()).put("coldHttpMs", bigFibCold.get(b.n())).put("digits", b.digits()).put("httpMs", finite(b.httpMs()))
        .put("engineMs", finite(b.engineMs())).put("gmpMs", finite(b.gmpMs())).put("sameDigits", b.same()));
    }
    return new JsonObject().put("started", started).put("seconds", took.toSeconds()).put("machine",
      new JsonArray(new ArrayList<>(machine))).put("service", serviceInfo).put("rows", arr).put("bigFib", big)
      .put("sections", sectionsJson).put("notes", new JsonArray(new ArrayList<>(notes)));
  }

  // ---- formatting --------------------------------------------------------------------------------------------------

  static double median(double[] v) {
    double[] s = Arrays.stream(v).filter(d -> !Double.isNaN(d)).sorted().toArray();
    if (s.length == 0) {
      return Double.NaN;
    }
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static Double finite(double d) {
    return Double.isNaN(d) ? null : Math.round(d * 1000) / 1000.0;
  }

  static String num(double d) {
    return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%,.0f", d);
  }

  static String ms(double d) {
    if (Double.isNaN(d)) {
      return "n/a";
    }
    return d >= 100 ? String.format(Locale.ROOT, "%,.0f", d) : d >= 10 ? String.format(Locale.ROOT, "%.1f", d)
      : String.format(Locale.ROOT, "%.2f", d);
  }

  private static String ratioText(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f×", a / b);
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + ", " + f[1] + ", " + f[2];
    } catch (IOException e) {
      return "n/a";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown model");
    } catch (IOException e) {
      return "unknown model";
    }
  }

  private static String memory() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
        .map(l -> String.format(Locale.ROOT, "%.0f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0))
        .findFirst().orElse("n/a");
    } catch (IOException e) {
      return "n/a";
    }
  }
}
