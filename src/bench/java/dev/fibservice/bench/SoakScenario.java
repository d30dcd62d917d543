package dev.fibservice.bench;

import com.sun.tools.attach.VirtualMachine;
import dev.fibservice.ServiceProcess;
import dev.fibservice.cluster.LocalCluster;
import dev.fibservice.cluster.MixedLoad;
import org.HdrHistogram.Histogram;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.Writer;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code make bench ARGS=soak}: the cluster of {@link LocalCluster} (the database process, a front, two workers) under
 * the mixed load of {@link MixedLoad} at a fixed rate of half the capacity measured first, for an hour
 * ({@code -Dsoak.minutes=N} for another length), sampling every 10 s each process's RSS, heap after a full GC, memory
 * off the heap (the JVM's direct buffers and Netty's own count), open file descriptors, threads, event-loop lag, and the
 * database's connections. After the first five minutes (the JIT, the caches and the pools fill), each series is judged
 * by the slope of a straight line fitted to its one-minute medians: flat when the upper end of the slope's 95 %
 * confidence interval, over an hour, stays within a bound of its own (a share of the series' level, or a floor for
 * small counts); growing when the lower end passes it. Results, samples and one chart per quantity in bench/results/.
 */
final class SoakScenario {

  /** A quantity sampled, its unit, and the growth per hour within which it counts as flat (a share, or a floor). */
  enum Metric {
    RSS("rss", "MiB", 0.05, 16),
    HEAP("heap after full GC", "MiB", 0.05, 4),
    DIRECT("direct buffers (JVM)", "MiB", 0.05, 4),
    NETTY("direct memory (Netty)", "MiB", 0.05, 4),
    FDS("open file descriptors", "fds", 0.05, 8),
    THREADS("threads", "threads", 0.05, 4),
    LAG_MAX("event-loop lag, max", "ms", 0.5, 20),
    LAG_MEAN("event-loop lag, mean", "ms", 0.5, 2),
    DB_CONNECTIONS("database connections", "connections", 0.05, 2);

    final String label;
    final String unit;
    final double share;
    final double floor;

    Metric(String label, String unit, double share, double floor) {
      this.label = label;
      this.unit = unit;
      this.share = share;
      this.floor = floor;
    }

    String file() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  private final Path jar;
  private final Path outDir;
  private final Path work;
  private final double minutes = Double.parseDouble(System.getProperty("soak.minutes", "60"));
  private final double settleMinutes = Double.parseDouble(System.getProperty("soak.settleMinutes",
    Double.toString(Math.min(5, minutes / 3))));
  private final int sampleSeconds = Integer.getInteger("soak.sampleSeconds", 10);
  private final String tag = System.getProperty("soak.tag", BenchSuite.today() + "-soak");
  /** (member, metric) → samples of (minutes since the load started, value). */
  private final Map<String, Map<Metric, List<double[]>>> series = new LinkedHashMap<>();
  private final List<String> loadLines = new ArrayList<>();

  SoakScenario(Path jar, Path outDir, Path work) {
    this.jar = jar;
    this.outDir = outDir;
    this.work = work;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Path jar = Path.of(System.getProperty("fib.jar", "target/fib-service.jar")).toAbsolutePath();
    System.setProperty("fib.jar", jar.toString());
    new SoakScenario(jar, Path.of(System.getProperty("bench.out", "bench/results")),
      Files.createDirectories(Path.of("target", "bench"))).run();
  }

  void run() throws Exception {
    System.setProperty("fib.jar", jar.toString());
    String loadBefore = SuiteReport.loadAverage();
    String started = BenchSuite.now();
    Path dir = work.resolve("soak-" + ProcessHandle.current().pid());
    System.out.println("   soak: cluster under " + dir);
    try (LocalCluster cluster = LocalCluster.start(dir, "-Xmx384m", List.of())) {
      List<Probe> probes = new ArrayList<>();
      try {
        probes.add(Probe.of("front", cluster.front, "http://127.0.0.1:" + cluster.front.httpPort() + "/metrics"));
        for (ServiceProcess w : cluster.workers) {
          probes.add(Probe.of(w.nodeName(), w, "http://127.0.0.1:" + w.opsPort() + "/metrics"));
        }
        probes.add(Probe.of("db", cluster.db, null));
        int mysqlPort = cluster.db.ports().getInteger("mysql");

        // capacity: clients back to back, after a warm-up of the same mix (the JIT, the pools, the caches)
        double capacity = capacity(cluster.target());
        double rate = Double.parseDouble(System.getProperty("soak.rate", Double.toString(capacity / 2)));
        System.out.printf(Locale.ROOT, "   soak: capacity %.0f ops/s, soak at %.0f ops/s for %.0f min%n", capacity, rate,
          minutes);
        Map<MixedLoad.Kind, Histogram> totals = new EnumMap<>(MixedLoad.Kind.class);
        MixedLoad load = new MixedLoad(cluster.target(), 1, MixedLoad.Mix.standard(false), 256, Duration.ofSeconds(60),
          op -> { });
        long t0 = System.nanoTime();
        load.startAtRate(rate);
        Map<MixedLoad.Outcome, Long> before = load.outcomes();
        long lastSent = 0;
        try (Writer csv = Files.newBufferedWriter(outDir.resolve(tag + ".csv"))) {
          csv.write("minutes,member,metric,value\n");
          long next = t0;
          long lastTick = t0;
          while (System.nanoTime() - t0 < (long) (minutes * 60e9)) {
            // a sample that took longer than the period (the machine is busy) moves the next one, never bunches them
            next = Math.max(next + sampleSeconds * 1_000_000_000L, System.nanoTime());
            long wait = next - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000);
            }
            long tick = System.nanoTime();
            double at = (tick - t0) / 60e9;
            double window = (tick - lastTick) / 1e9;
            lastTick = tick;
            // the load's figures first, at the tick: the probes below may take seconds on a busy machine
            Map<MixedLoad.Kind, Histogram> interval = load.interval();
            Map<MixedLoad.Outcome, Long> now = load.outcomes();
            long sent = load.sent();
            long skipped = load.skipped();
            for (Probe p : probes) {
              Map<Metric, Double> s = p.sample(mysqlPort);
              for (Map.Entry<Metric, Double> e : s.entrySet()) {
                if (Double.isNaN(e.getValue())) {
                  continue;
                }
                series.computeIfAbsent(p.name, k -> new EnumMap<>(Metric.class))
                  .computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new double[] {at, e.getValue()});
                csv.write(String.format(Locale.ROOT, "%.3f,%s,%s,%.3f%n", at, p.name, e.getKey().file(), e.getValue()));
              }
            }
            csv.flush();
            Histogram all = new Histogram(3);
            interval.forEach((k, h) -> {
              all.add(h);
              totals.computeIfAbsent(k, x -> new Histogram(3)).add(h);
            });
            String line = String.format(Locale.ROOT, "%.2f min: sent %d (%.1f/s over %.0f s), done %d, p50 %.1f ms, p99"
                + " %.1f ms, max %.1f ms, outcomes %s, skipped %d, load average %s", at, sent - lastSent,
              (sent - lastSent) / window, window, all.getTotalCount(), all.getValueAtPercentile(50) / 1e3,
              all.getValueAtPercentile(99) / 1e3, all.getMaxValue() / 1e3, delta(before, now), skipped,
              SuiteReport.loadAverage());
            loadLines.add(line);
            System.out.println("   " + line);
            before = now;
            lastSent = sent;
          }
        } finally {
          load.close();
        }
        write(started, loadBefore, capacity, rate, load, totals);
      } finally {
        for (Probe p : probes) {
          p.close();
        }
      }
    }
  }

  private static Map<MixedLoad.Outcome, Long> delta(Map<MixedLoad.Outcome, Long> a, Map<MixedLoad.Outcome, Long> b) {
    Map<MixedLoad.Outcome, Long> d = new EnumMap<>(MixedLoad.Outcome.class);
    b.forEach((k, v) -> {
      long x = v - a.getOrDefault(k, 0L);
      if (x != 0) {
        d.put(k, x);
      }
    });
    return d;
  }

  /** The mix's throughput with 32 clients back to back, over {@code soak.capacitySeconds} (30), after as long a warm-up. */
  private double capacity(MixedLoad.Target target) throws Exception {
    long seconds = Long.getLong("soak.capacitySeconds", 30);
    for (int round = 0; round < 2; round++) {
      try (MixedLoad probe = new MixedLoad(target, 1000 + round, MixedLoad.Mix.standard(false), 32,
        Duration.ofSeconds(60), op -> { })) {
        probe.startClosed(32);
        Thread.sleep(seconds * 1000);
        long done = probe.outcomes().values().stream().mapToLong(Long::longValue).sum();
        probe.stop();
        double perSecond = done / (double) seconds;
        System.out.printf(Locale.ROOT, "   soak: %s %.0f ops/s with 32 clients back to back (%s)%n",
          round == 0 ? "warm-up" : "capacity", perSecond, probe.outcomes());
        if (round == 1) {
          return perSecond;
        }
      }
    }
    throw new IllegalStateException();
  }

  // ---- verdict -------------------------------------------------------------------------------------------------------

  /** A straight line fitted to one-minute medians after the settling time: slope per hour and its 95 % interval. */
  record Fit(int points, double level, double slopePerHour, double low, double high, double bound, String verdict) {
  }

  Fit fit(Metric metric, List<double[]> samples) {
    TreeMap<Long, List<Double>> byMinute = new TreeMap<>();
    for (double[] s : samples) {
      if (s[0] >= settleMinutes) {
        byMinute.computeIfAbsent((long) Math.floor(s[0]), k -> new ArrayList<>()).add(s[1]);
      }
    }
    int n = byMinute.size();
    double[] x = new double[n];
    double[] y = new double[n];
    int i = 0;
    for (Map.Entry<Long, List<Double>> e : byMinute.entrySet()) {
      x[i] = e.getKey() + 0.5;
      y[i++] = SuiteReport.median(e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
    }
    double level = n == 0 ? Double.NaN : SuiteReport.median(y.clone());
    double bound = Math.max(metric.share * Math.abs(level), metric.floor);
    if (n < 3) {
      return new Fit(n, level, Double.NaN, Double.NaN, Double.NaN, bound, "too short");
    }
    double mx = 0;
    double my = 0;
    for (int k = 0; k < n; k++) {
      mx += x[k] / n;
      my += y[k] / n;
    }
    double sxx = 0;
    double sxy = 0;
    for (int k = 0; k < n; k++) {
      sxx += (x[k] - mx) * (x[k] - mx);
      sxy += (x[k] - mx) * (y[k] - my);
    }
    double slope = sxy / sxx;
    double sse = 0;
    for (int k = 0; k < n; k++) {
      double r = y[k] - (my + slope * (x[k] - mx));
      sse += r * r;
    }
    double se = Math.sqrt(sse / (n - 2) / sxx);
    double t = studentT975(n - 2);
    double perHour = slope * 60;
    double low = (slope - t * se) * 60;
    double high = (slope + t * se) * 60;
    String verdict = high <= bound ? "flat" : low > bound ? "**grows**" : "undecided";
    return new Fit(n, level, perHour, low, high, bound, verdict);
  }

  /** The 97.5 % quantile of Student's t with {@code df} degrees of freedom (a table, then the normal's 1.96). */
  static double studentT975(int df) {
    double[] table = {12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
      2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df <= 0) {
      return Double.NaN;
    }
    return df <= table.length ? table[df - 1] : df <= 60 ? 2.00 : 1.96;
  }

  private void write(String started, String loadBefore, double capacity, double rate, MixedLoad load,
                     Map<MixedLoad.Kind, Histogram> totals) throws IOException {
    Files.createDirectories(outDir);
    StringBuilder md = new StringBuilder();
    md.append("# Soak, ").append(tag).append("\n\n");
    md.append(String.format(Locale.ROOT, "`make bench ARGS=soak`%s, started %s, ended %s. A cluster on loopback as"
        + " `make cluster` makes it: the database process (`db`), one `http` front (2 HTTP instances, TCP, the TCP bridge,"
        + " SockJS) and two `worker` members, event-bus TLS, 2 event loops and `-Xmx384m` each. The mixed load of"
        + " `MixedLoad` (kinds and shares below) at a fixed rate of **%.0f operations/s**, half of the %.0f/s that 32"
        + " clients back to back got from it just before (measured after a warm-up of the same length), for %.0f"
        + " minutes; sampled every %d s. Load average (1, 5, 15 min) before %s, after %s (%d cores, shared with other"
        + " work).%n%n", minutes == 60 ? "" : " with `-Dsoak.minutes=" + fmt(minutes) + "`", started, BenchSuite.now(),
      rate, capacity, minutes, sampleSeconds, loadBefore, SuiteReport.loadAverage(),
      Runtime.getRuntime().availableProcessors()));
    md.append("## Verdict\n\n");
    md.append(String.format(Locale.ROOT, "Each series after the first %s minutes (JIT, pools and caches filling) is"
        + " reduced to one-minute medians, and a straight line is fitted to them by least squares. Its slope is given per"
        + " hour with its 95 %% confidence interval (Student's t). The bound is the growth per hour that still counts"
        + " as flat: a share of the series' median or a floor, whichever is larger (the table of `SoakScenario.Metric`)."
        + " **flat**: the interval's upper end is within the bound; **grows**: its lower end is above it; undecided:"
        + " neither. Heap after GC is the heap in use right after a full GC that the sampler asks for through JMX at"
        + " every sample (so it is the live set, not a sawtooth). The one-minute medians damp the autocorrelation of"
        + " 10 s samples; the interval is still optimistic if minutes are correlated, so a flat verdict is read with"
        + " the chart beside it.%n%n", fmt(settleMinutes)));
    md.append("| member | quantity | median | slope per hour | 95 % interval | bound | verdict |\n");
    md.append("|---|---|---|---|---|---|---|\n");
    int grows = 0;
    int undecided = 0;
    for (Map.Entry<String, Map<Metric, List<double[]>>> m : series.entrySet()) {
      for (Map.Entry<Metric, List<double[]>> e : m.getValue().entrySet()) {
        Fit f = fit(e.getKey(), e.getValue());
        grows += f.verdict().contains("grows") ? 1 : 0;
        undecided += f.verdict().equals("undecided") ? 1 : 0;
        md.append(String.format(Locale.ROOT, "| %s | %s | %s %s | %s | %s … %s | %s | %s |%n", m.getKey(),
          e.getKey().label, fmt(f.level()), e.getKey().unit, signed(f.slopePerHour()), signed(f.low()), signed(f.high()),
          fmt(f.bound()), f.verdict()));
      }
    }
    md.append(String.format(Locale.ROOT, "%n**%s**: %d series grow, %d undecided.%n%n", grows == 0 && undecided == 0
      ? "Nothing grows beyond noise" : grows > 0 ? "Something grows" : "Not decided everywhere", grows, undecided));
    md.append("## Charts\n\n");
    for (Metric metric : Metric.values()) {
      String png = tag + "-" + metric.file() + ".png";
      if (chart(metric, outDir.resolve(png))) {
        md.append("![").append(metric.label).append("](").append(png).append(")\n\n");
      }
    }
    md.append("## Load\n\n");
    md.append(String.format(Locale.ROOT, "%d operations sent, %d skipped (every client busy), outcomes %s. Latency from"
      + " when each was due (so a late send counts), by kind, over the whole run:%n%n", load.sent(), load.skipped(),
      load.outcomes()));
    md.append("| kind | share ‰ | count | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|\n");
    Map<MixedLoad.Kind, Integer> parts = MixedLoad.Mix.standard(false).parts();
    totals.forEach((k, h) -> md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.1f | %.1f |%n", k,
      parts.get(k), h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
      h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3)));
    md.append("\nOUTCOMES: OK answered and checked against the client's own F(n) (a hash for big n); WRONG a wrong"
      + " answer; REFUSED an error status or frame; UNKNOWN no answer within 60 s or the connection lost; ABANDONED"
      + " a client that reset its connection on purpose (HTTP mid-call, TCP, bridge and SockJS before the answer).\n\n");
    md.append("Every ").append(sampleSeconds).append(" s:\n\n```\n");
    loadLines.forEach(l -> md.append(l).append('\n'));
    md.append("```\n\nSamples: [").append(tag).append(".csv](").append(tag).append(".csv) (minutes, member, quantity,"
      + " value).\n");
    Files.writeString(outDir.resolve(tag + ".md"), md.toString());
    System.out.println("   soak: results in " + outDir.resolve(tag + ".md"));
  }

  private boolean chart(Metric metric, Path file) throws IOException {
    XYChart chart = new XYChartBuilder().width(1200).height(600).title(metric.label + " (" + metric.unit + "), every "
      + sampleSeconds + " s").xAxisTitle("minutes under load").yAxisTitle(metric.unit).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    boolean any = false;
    for (Map.Entry<String, Map<Metric, List<double[]>>> m : series.entrySet()) {
      List<double[]> s = m.getValue().get(metric);
      if (s == null || s.isEmpty()) {
        continue;
      }
      any = true;
      chart.addSeries(m.getKey(), s.stream().mapToDouble(p -> p[0]).toArray(), s.stream().mapToDouble(p -> p[1])
        .toArray()).setMarker(SeriesMarkers.NONE);
    }
    if (any) {
      BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
    return any;
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v)
      : String.format(Locale.ROOT, "%.2f", v);
  }

  private static String signed(double v) {
    return Double.isNaN(v) ? "n/a" : (v >= 0 ? "+" : "") + fmt(v);
  }

  // ---- probes --------------------------------------------------------------------------------------------------------

  /** One process watched: /proc for memory, descriptors and threads; JMX (attached) for the heap; its /metrics. */
  static final class Probe implements AutoCloseable {
    private static final Pattern LAG_MAX = Pattern.compile("(?m)^fib_event_loop_lag_seconds_max (\\S+)");
    private static final Pattern LAG_SUM = Pattern.compile("(?m)^fib_event_loop_lag_seconds_sum (\\S+)");
    private static final Pattern LAG_COUNT = Pattern.compile("(?m)^fib_event_loop_lag_seconds_count (\\S+)");
    private static final Pattern NETTY = Pattern.compile("(?m)^fib_netty_direct_memory_bytes (\\S+)");

    final String name;
    final long pid;
    private final String metricsUrl;
    private final JMXConnector jmx;
    private final MemoryMXBean memory;
    private final List<BufferPoolMXBean> buffers;
    private final HttpClient http = HttpClient.newHttpClient();
    private double lastSum = Double.NaN;
    private double lastCount = Double.NaN;

    private Probe(String name, long pid, String metricsUrl, JMXConnector jmx) throws IOException {
      this.name = name;
      this.pid = pid;
      this.metricsUrl = metricsUrl;
      this.jmx = jmx;
      MBeanServerConnection mbs = jmx.getMBeanServerConnection();
      this.memory = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.MEMORY_MXBEAN_NAME,
        MemoryMXBean.class);
      this.buffers = ManagementFactory.getPlatformMXBeans(mbs, BufferPoolMXBean.class);
    }

    /** Attaches to the JVM (its local management agent, started on demand) and keeps the connection. */
    static Probe of(String name, ServiceProcess p, String metricsUrl) throws Exception {
      VirtualMachine vm = VirtualMachine.attach(Long.toString(p.pid()));
      String address;
      try {
        address = vm.startLocalManagementAgent();
      } finally {
        vm.detach();
      }
      return new Probe(name, p.pid(), metricsUrl, JMXConnectorFactory.connect(new JMXServiceURL(address)));
    }

    Map<Metric, Double> sample(int mysqlPort) {
      Map<Metric, Double> m = new EnumMap<>(Metric.class);
      List<Long> pids = new ArrayList<>(List.of(pid));
      ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
      double rss = 0;
      double threads = 0;
      double fds = 0;
      for (long p : pids) {
        rss += status(p, "VmRSS") / 1024.0;
        threads += status(p, "Threads");
        String[] fd = new java.io.File("/proc/" + p + "/fd").list();
        fds += fd == null ? 0 : fd.length;
      }
      m.put(Metric.RSS, rss);
      m.put(Metric.THREADS, threads);
      m.put(Metric.FDS, fds);
      try {
        memory.gc();
        m.put(Metric.HEAP, memory.getHeapMemoryUsage().getUsed() / 1048576.0);
        for (BufferPoolMXBean b : buffers) {
          if ("direct".equals(b.getName())) {
            m.put(Metric.DIRECT, b.getMemoryUsed() / 1048576.0);
          }
        }
      } catch (RuntimeException e) {
        System.out.println("   soak: JMX of " + name + ": " + e);
      }
      if (metricsUrl != null) {
        try {
          String text = http.send(HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
          m.put(Metric.LAG_MAX, number(LAG_MAX, text) * 1e3);
          double sum = number(LAG_SUM, text);
          double count = number(LAG_COUNT, text);
          if (!Double.isNaN(lastCount) && count > lastCount) {
            m.put(Metric.LAG_MEAN, (sum - lastSum) / (count - lastCount) * 1e3);
          }
          lastSum = sum;
          lastCount = count;
          double netty = number(NETTY, text);
          if (netty >= 0) {
            m.put(Metric.NETTY, netty / 1048576.0);
          }
        } catch (IOException | InterruptedException e) {
          System.out.println("   soak: /metrics of " + name + ": " + e);
        }
      } else {
        m.put(Metric.DB_CONNECTIONS, (double) established(mysqlPort));
      }
      return m;
    }

    private static double number(Pattern p, String text) {
      Matcher m = p.matcher(text);
      return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** A numeric field of /proc/PID/status (kB for memory), 0 when the process is gone. */
    private static double status(long pid, String field) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
          if (line.startsWith(field + ":")) {
            return Double.parseDouble(line.substring(field.length() + 1).trim().split("\\s+")[0]);
          }
        }
      } catch (IOException | RuntimeException e) {
        return 0;
      }
      return 0;
    }

    /** Established TCP connections whose local port is {@code port} (the server's side of each), from /proc/net. */
    static long established(int port) {
      String hex = String.format(Locale.ROOT, ":%04X ", port);
      long count = 0;
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        try {
          for (String line : Files.readAllLines(Path.of(table))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 3 && (f[1] + " ").endsWith(hex) && "01".equals(f[3])) {
              count++;
            }
          }
        } catch (IOException e) {
          // no IPv6 table on this host
        }
      }
      return count;
    }

    @Override
    public void close() {
      try {
        jmx.close();
      } catch (IOException e) {
        // the process is gone already
      }
    }
  }
}
