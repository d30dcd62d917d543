package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import dev.fibservice.bench.SuiteProcesses.BenchTool;
import dev.fibservice.bench.SuiteProcesses.Cpu;
import dev.fibservice.bench.SuiteProcesses.Load;
import dev.fibservice.bench.SuiteProcesses.Sample;
import dev.fibservice.bench.SuiteProcesses.Wrk;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The suite's cluster scenario: throughput through one front as worker members of a fixed size (each in a cgroup v1
 * CPU group with a quota) are added, then several fronts of a fixed size sharing the load. Needs root and the cgroup
 * v1 cpu controller, and says so instead of measuring without them.
 *
 * <p>A member starts inside its group, so its JVM sizes its pools for the small host (ceil of the quota: 1 CPU), and
 * starts and warms up with the quota raised to {@code bench.warmupCpu} (1 CPU, never above that ceiling), since the
 * JIT alone would fill a 0.3-CPU quota for minutes; it is measured at its own quota once its req/s has settled.
 *
 * <p>Alone: {@code java -cp <test classpath> dev.fibservice.bench.ClusterScenario} from the project directory;
 * system properties {@code bench.seconds}, {@code bench.rounds}, {@code bench.workerCpu} (0.3), {@code bench.frontCpu}
 * (0.25), {@code bench.warmupCpu} (1), {@code bench.cgroupShares} (8192), {@code bench.cgroupPrefix} (fib-bench-),
 * {@code bench.cgroupRoot} (/sys/fs/cgroup/cpu).
 */
final class ClusterScenario implements AutoCloseable {

  static final String HEAVY = "/fib/27?algorithm=recursive";
  static final String LIGHT = "/fib/20?algorithm=recursive";
  /** Where the cgroup v1 cpu controller is mounted (some hosts have it at /sys/fs/cgroup/cpu,cpuacct). */
  static final Path CPU_ROOT = Path.of(System.getProperty("bench.cgroupRoot", "/sys/fs/cgroup/cpu"));
  static final long PERIOD_MICROS = 100_000;
  static final int SCALING_CONNECTIONS = 16;
  static final int MAX_WORKERS = 3;
  /** Other work on the machine, in cores, above which a step's runs count as disturbed and are run once more. */
  static final double OTHERS_LIMIT = Double.parseDouble(System.getProperty("bench.othersLimit", "0.3"));

  private final Path jar;
  private final Path work;
  private final Duration seconds;
  private final int rounds;
  private final SuiteReport report;
  private final double workerCpu = Double.parseDouble(System.getProperty("bench.workerCpu", "0.3"));
  private final double frontCpu = Double.parseDouble(System.getProperty("bench.frontCpu", "0.25"));
  private final double warmupCpu = Double.parseDouble(System.getProperty("bench.warmupCpu", "1"));
  /**
   * cpu.shares of the scenario's groups (the root's tasks have 1024 each): on a machine busy with other work, a
   * 0.3-CPU host still gets its 0.3 CPU, and the front and the generators theirs; on an idle one it changes nothing.
   */
  private final long shares = Long.getLong("bench.cgroupShares", 8192);
  private final String prefixBase = System.getProperty("bench.cgroupPrefix", "fib-bench-");
  private final String prefix = prefixBase + ProcessHandle.current().pid() + "-";
  private final String clusterName = "fib-bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
  private final List<Member> members = new ArrayList<>();
  /** This JVM, and so the generators it forks and the members without a quota, while the scenario runs. */
  private CpuGroup harness;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Path certs;
  private Wrk wrk;
  private BenchTool bench;

  ClusterScenario(Path jar, Path work, Duration seconds, int rounds, SuiteReport report) {
    this.jar = jar;
    this.work = work;
    this.seconds = seconds;
    this.rounds = rounds;
    this.report = report;
  }

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(System.getProperty("fib.jar", "target/fib-service.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      System.err.println("bench: " + jar + " not found (run `make build`)");
      System.exit(2);
    }
    Path work = Files.createDirectories(Path.of("target", "bench"));
    Duration seconds = Duration.ofSeconds(Long.getLong("bench.seconds", 6));
    int rounds = Integer.getInteger("bench.rounds", 3);
    // the suite's report collects the rows; alone, the scenario prints them and writes no results file
    SuiteReport report = new SuiteReport(Path.of("bench", "results"), seconds, Duration.ZERO, rounds);
    ClusterScenario scenario = new ClusterScenario(jar, work, seconds, rounds, report);
    Thread cleanup = new Thread(scenario::close, "cluster-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      scenario.run();
    } finally {
      scenario.close();
    }
  }

  /** Why the scenario cannot run here, or null. */
  static String unavailable() {
    if (!Files.isRegularFile(CPU_ROOT.resolve("cpu.cfs_quota_us"))) {
      return "no cgroup v1 cpu controller at " + CPU_ROOT + " (a cgroup v2 host needs another set-up)";
    }
    if (!Files.isWritable(CPU_ROOT.resolve("cgroup.procs"))) {
      return "it needs root, to make CPU groups under " + CPU_ROOT + " (`sudo make bench ARGS=cluster`)";
    }
    if (SuiteProcesses.exec(Duration.ofSeconds(10), "openssl", "version") == null) {
      return "openssl is not installed: the members' TLS certificates cannot be made (apt-get install -y openssl)";
    }
    return null;
  }

  void run() throws Exception {
    String why = unavailable();
    if (why != null) {
      report.note("Cluster scenario skipped: " + why + ".");
      return;
    }
    wrk = Wrk.find(1);
    bench = new BenchTool(jar, work);
    if (wrk == null) {
      report.note("Cluster scenario: wrk is not installed, the built-in generator (a JVM of its own, on the same cores)"
        + " drives it instead, which lowers the absolute figures.");
    }
    certs = work.resolve("cluster-certs");
    String made = SuiteProcesses.exec(Duration.ofSeconds(60), "sh", Path.of("src", "main", "scripts",
      "cluster-certs.sh").toString(), certs.toString(), "127.0.0.1");
    if (made == null) {
      throw new IllegalStateException("src/main/scripts/cluster-certs.sh failed");
    }
    removeStale();
    harness = CpuGroup.create(prefix + "harness", 0, shares);
    try {
      harness.add(ProcessHandle.current().pid());
      try {
        scaling();
      } finally {
        stopAll();
      }
      try {
        fronts();
      } finally {
        stopAll();
      }
    } finally {
      harness.close();
    }
  }

  /**
   * The CPU groups of an earlier run whose harness is gone (killed with SIGKILL, or the machine stopped): empty ones
   * are removed; one that still holds processes is left as it is and noted, since they load the machine.
   */
  private void removeStale() throws IOException {
    Pattern ours = Pattern.compile(Pattern.quote(prefixBase) + "(\\d+)-.*");
    List<Path> groups;
    try (var list = Files.list(CPU_ROOT)) {
      groups = list.filter(Files::isDirectory).toList();
    }
    for (Path dir : groups) {
      Matcher m = ours.matcher(dir.getFileName().toString());
      if (!m.matches() || ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
        continue;
      }
      List<String> tasks = Files.readAllLines(dir.resolve("cgroup.procs")).stream().filter(t -> !t.isBlank()).toList();
      if (tasks.isEmpty()) {
        Files.delete(dir);
        System.out.println("   removed the empty CPU group " + dir + " of an earlier run");
      } else {
        report.note("Cluster scenario: the CPU group " + dir + " of an earlier run still holds processes " + tasks
          + "; left as is (they take CPU from this run).");
      }
    }
  }

  // ---- workers: one front, 1 to 3 worker hosts of a fixed size -----------------------------------------------------

  /**
   * One configuration's figures: median req/s, the front's CPU per request, that less its idle burn, the workers'
   * CPU per request (all of them together), and the cores other work on the machine took meanwhile (the mean over
   * the runs).
   */
  record Step(double rps, double micros, double marginal, double workerMicros, double others) {
  }

  /**
   * C1..C3: wrk -t1 -c16 on a recursive fib(27) through one front without a quota, as workers are added; then C1
   * again with the first worker alone (the others leave gracefully), so that the baseline of the ratios is taken
   * warm as well as cold, and the lower ratio counts.
   */
  void scaling() throws Exception {
    int seed = SuiteProcesses.freePort();
    Member front = start("cluster-front", "http", seed, seed, null);
    front.awaitReady();
    if (!report.hasServiceInfo()) {
      report.serviceInfo(BenchSuite.fetch(front.http("/info")));
    }
    Step[] steps = new Step[MAX_WORKERS + 1];
    List<Member> workers = new ArrayList<>();
    for (int n = 1; n <= MAX_WORKERS; n++) {
      Member w = start("cluster-worker-" + n, "worker", SuiteProcesses.freePort(), seed, workerCpu);
      w.awaitReady();
      workers.add(w);
      awaitServing(front, HEAVY, workers);
      warmUp(front, HEAVY, SCALING_CONNECTIONS, w);
      steps[n] = step("C" + n, front, workers, "");
    }
    for (int n = MAX_WORKERS; n > 1; n--) {
      workers.remove(n - 1).close();
    }
    // Hazelcast moves the partitions of the members that left, for seconds on a fraction of a CPU
    settle(front, HEAVY, SCALING_CONNECTIONS, workers.get(0));

    Step again = step("C1", front, workers, ", again after " + MAX_WORKERS);
    double base = Math.max(steps[1].rps(), again.rps());
    StringBuilder ratios = new StringBuilder(String.format(Locale.ROOT, "1: %.0f req/s first, %.0f again after %d"
      + " (front %.0f and %.0f µs/req, %.0f and %.0f without its idle burn; workers %.0f and %.0f µs/req)",
      steps[1].rps(), again.rps(), MAX_WORKERS, steps[1].micros(), again.micros(), steps[1].marginal(),
      again.marginal(), steps[1].workerMicros(), again.workerMicros()));
    boolean met = true;
    for (int n = 2; n <= MAX_WORKERS; n++) {
      double ratio = steps[n].rps() / base;
      met &= ratio >= 0.9 * n;
      ratios.append(String.format(Locale.ROOT, "; %d: %.0f req/s (%.2f×, front %.0f µs/req, %.0f without its idle"
        + " burn; workers %.0f µs/req)", n, steps[n].rps(), ratio, steps[n].micros(), steps[n].marginal(),
        steps[n].workerMicros()));
    }
    report.note("Cluster scaling (C1–C3): worker members of " + cpus(workerCpu) + " each (cgroup v1 quota, the JVM"
      + " sees 1 CPU), one front without a quota, " + generatorName() + " -t1 -c" + SCALING_CONNECTIONS + " on `"
      + HEAVY + "`, event-bus TLS. " + ratios + "; ratios to the higher of the two 1-worker figures; target ≥ 0.9·N×: "
      + (met ? "**met**" : "**not met**") + ". Front CPU per request: all its CPU over the run (the `server CPU`"
      + " column), and less what it burns with no load (Hazelcast, pings, timers), measured for 5 s before. "
      + othersText(steps, again));
  }

  /** What other work on the shared machine took during each step, and the load average now. */
  private static String othersText(Step[] steps, Step again) {
    StringBuilder sb = new StringBuilder("Other work on the machine (its busy CPU less this scenario's processes)"
      + " during the runs: ");
    for (int n = 1; n < steps.length; n++) {
      sb.append(String.format(Locale.ROOT, "%d worker%s %.2f cores, ", n, n > 1 ? "s" : "", steps[n].others()));
    }
    return sb.append(String.format(Locale.ROOT, "1 again %.2f cores (runs over %.2f were done once more, the less"
      + " disturbed set kept); load average %s.", again.others(), OTHERS_LIMIT, SuiteReport.loadAverage())).toString();
  }

  /**
   * `rounds` runs with these workers; each worker's CPU use and throttling printed, as proof the quota binds. When
   * other work took more than {@link #OTHERS_LIMIT} cores meanwhile, the runs are done once more and the less
   * disturbed set counts (both are printed).
   */
  private Step step(String id, Member front, List<Member> workers, String suffix) throws Exception {
    int n = workers.size();
    double idle = idleCores(front);
    String label = HEAVY + " c=" + SCALING_CONNECTIONS + " through 1 front, " + n + " worker" + (n > 1 ? "s" : "")
      + " of " + cpus(workerCpu) + suffix;
    Runs runs = runs(id, label, front, workers);
    if (runs.others() > OTHERS_LIMIT) {
      System.out.printf("   %s: other work took %.2f cores meanwhile (over %.2f): once more%n", id, runs.others(),
        OTHERS_LIMIT);
      Runs again = runs(id, label, front, workers);
      runs = again.others() < runs.others() ? again : runs;
    }
    for (Sample s : runs.samples()) {
      report.add(id, label, "fib-service cluster", generatorName(), s);
    }
    double rps = SuiteReport.median(runs.samples().stream().mapToDouble(Sample::rps).toArray());
    double micros = SuiteReport.median(runs.samples().stream().mapToDouble(Sample::serverCpuMicros).toArray());
    // what the front spends on requests alone: its total less what it burns idle
    double marginal = micros - idle * 1e6 / rps;
    double workerMicros = runs.workerCores() * 1e6 / rps;
    System.out.printf("   %s: median %.0f req/s, front %.0f µs/req (%.0f without its idle %.3f cores), workers %.0f"
      + " µs/req, other work %.2f cores%n", id, rps, micros, marginal, idle, workerMicros, runs.others());
    return new Step(rps, micros, marginal, workerMicros, runs.others());
  }

  /** One set of measured runs, the workers' cores (all together) and other work's, each the mean over the runs. */
  private record Runs(List<Sample> samples, double workerCores, double others) {
  }

  private Runs runs(String id, String label, Member front, List<Member> workers) throws Exception {
    int n = workers.size();
    List<Sample> samples = new ArrayList<>();
    double[] workerCores = new double[n];
    double others = 0;
    for (int r = 0; r < rounds; r++) {
      double[] before = workers.stream().mapToDouble(m -> m.cpuSeconds()).toArray();
      Others window = Others.start();
      long t0 = System.nanoTime();
      Sample s = measure(front, Load.http(front.http(HEAVY), SCALING_CONNECTIONS, true));
      double wall = (System.nanoTime() - t0) / 1e9;
      others += window.cores() / rounds;
      for (int i = 0; i < n; i++) {
        workerCores[i] += (workers.get(i).cpuSeconds() - before[i]) / wall / rounds;
      }
      samples.add(s);
      print(id, label, s);
    }
    StringBuilder use = new StringBuilder();
    for (int i = 0; i < n; i++) {
      use.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", workerCores[i]));
    }
    System.out.printf("   %s: workers' CPU use (cores, each quota %.2f): %s; throttled %s; other work %.2f cores%n", id,
      workerCpu, use, workers.stream().map(m -> m.group.throttled()).toList(), others);
    return new Runs(samples, Arrays.stream(workerCores).sum(), others);
  }

  /**
   * The machine's busy CPU time less this scenario's own (the harness, its generators and every member), over a
   * window: what the other users of a shared machine took meanwhile.
   */
  record Others(double machine, double ours, long nanos) {
    static Others start() {
      return new Others(Cpu.machine(), Cpu.harness(), System.nanoTime());
    }

    /** Cores other work used since the start, on average. */
    double cores() {
      double wall = (System.nanoTime() - nanos) / 1e9;
      return Math.max(0, (Cpu.machine() - machine) - (Cpu.harness() - ours)) / wall;
    }
  }

  // ---- fronts: where one front of a fixed size saturates, and two sharing the load ---------------------------------

  /**
   * CF: fronts of {@link #frontCpu} CPU each, two workers without a quota (enough for light requests): one front under
   * a rising number of connections until its req/s stops rising, then one front against two, each with its own load.
   */
  void fronts() throws Exception {
    int seed = SuiteProcesses.freePort();
    List<Member> workers = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      workers.add(start("cluster-light-worker-" + i, "worker", i == 1 ? seed : SuiteProcesses.freePort(), seed, null));
    }
    for (Member w : workers) {
      w.awaitReady();
    }
    Member a = start("cluster-front-a", "http", SuiteProcesses.freePort(), seed, frontCpu);
    Member b = start("cluster-front-b", "http", SuiteProcesses.freePort(), seed, frontCpu);
    a.awaitReady();
    b.awaitReady();
    for (Member f : List.of(a, b)) {
      awaitServing(f, LIGHT, workers);
      warmUp(f, LIGHT, 16, f);
    }
    String size = cpus(frontCpu);
    // the ramp: 1 to 64 connections; saturated from the fewest that reach 95 % of the best req/s (one noisy step
    // cannot end the ramp early)
    List<Sample> ramp = new ArrayList<>();
    List<Integer> connections = new ArrayList<>();
    Others rampOthers = Others.start();
    for (int c = 1; c <= 64; c *= 2) {
      Sample s = measure(a, Load.http(a.http(LIGHT), c, true));
      String label = LIGHT + " c=" + c + " through 1 front of " + size + " (2 workers)";
      report.add("CF", label, "fib-service cluster", generatorName(), s);
      print("CF", label, s);
      System.out.printf("   CF: the front used %.2f cores of its %.2f%n", busyCores(s), frontCpu);
      ramp.add(s);
      connections.add(c);
    }
    double rampOtherCores = rampOthers.cores();
    double best = ramp.stream().mapToDouble(Sample::rps).max().orElse(Double.NaN);
    int at = 0;
    while (ramp.get(at).rps() < 0.95 * best) {
      at++;
    }
    Sample first = ramp.get(0);
    Sample saturated = ramp.get(at);
    int saturatedAt = connections.get(at);
    // one front against two, each with twice the saturating load (firmly saturated), alternating which goes first
    int c = Math.max(2 * saturatedAt, 8);
    List<Double> one = new ArrayList<>();
    List<Double> oneMicros = new ArrayList<>();
    List<Double> two = new ArrayList<>();
    Others abOthers = Others.start();
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < 2; i++) {
        boolean single = (i == 0) == (r % 2 == 0);
        if (single) {
          Sample s = measure(a, Load.http(a.http(LIGHT), c, true));
          one.add(s.rps());
          oneMicros.add(s.serverCpuMicros());
          report.add("CF1", LIGHT + " c=" + c + ", 1 front of " + size, "fib-service cluster", generatorName(), s);
          print("CF1", "1 front, c=" + c, s);
        } else {
          Sample[] both = measureTogether(List.of(a, b), LIGHT, c);
          double sum = both[0].rps() + both[1].rps();
          two.add(sum);
          for (int k = 0; k < 2; k++) {
            report.add("CF2", LIGHT + " c=" + c + " per front, front " + (k == 0 ? "a" : "b") + " of 2 of " + size,
              "fib-service cluster", generatorName(), both[k]);
            print("CF2", "front " + (k == 0 ? "a" : "b") + " of 2, c=" + c, both[k]);
          }
          System.out.printf("   CF2: both fronts %.0f req/s%n", sum);
        }
      }
    }
    double abOtherCores = abOthers.cores();
    double oneMedian = median(one);
    double twoMedian = median(two);
    double micros = median(oneMicros);
    double perCore = 1e6 / micros;
    String cheaper = saturated.serverCpuMicros() < 0.9 * first.serverCpuMicros()
      ? "; past that, more connections raise req/s only as its CPU per request falls (more requests per wake-up)" : "";
    report.note(String.format(Locale.ROOT, "Cluster fronts (CF): a front of %s (cgroup v1 quota) carrying `%s`,"
        + " two workers without a quota. With 1 connection it uses %.2f of its %.2f CPU (%.0f req/s, %.0f µs of front"
        + " CPU per request)%s; from %d connections on (%.0f req/s, %.0f µs, %.2f CPU) it stays within 5 %% of its"
        + " best: the front is saturated. At %d connections per front: one front %.0f req/s, two fronts (each its own"
        + " %s) %.0f req/s together (%.2f×). At %.0f µs per request a front does about %.0f req/s per core: for R req/s"
        + " of this request, about R / %.0f fronts of this size, or R / %.0f cores of fronts, behind any load balancer."
        + " Other work on the machine during the ramp %.2f cores, during the 1-against-2 runs %.2f cores.", size, LIGHT,
      busyCores(first), frontCpu, first.rps(), first.serverCpuMicros(), cheaper, saturatedAt, saturated.rps(),
      saturated.serverCpuMicros(), busyCores(saturated), c, oneMedian, generatorName(), twoMedian,
      twoMedian / oneMedian, micros, perCore, oneMedian, perCore, rampOtherCores, abOtherCores));
  }

  private static double busyCores(Sample s) {
    return s.serverCpuMicros() * s.rps() / 1e6;
  }

  private static double median(List<Double> values) {
    return SuiteReport.median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  // ---- load ----------------------------------------------------------------------------------------------------------

  private String generatorName() {
    return wrk != null ? "wrk" : "built-in";
  }

  /** A measured run against one front, with the front's CPU time per request over it. */
  private Sample measure(Member front, Load load) throws Exception {
    return measure(front, load, seconds);
  }

  /** A run of the given length, with one member's CPU time per request over it. */
  private Sample measure(Member member, Load load, Duration d) throws Exception {
    double cpu0 = member.cpuSeconds();
    Sample s = generate(load, d);
    return s.withServerCpu(member.cpuSeconds() - cpu0);
  }

  /** One generator per front at once (wrk targets one URL): each front's own sample. */
  private Sample[] measureTogether(List<Member> fronts, String path, int c) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(fronts.size());
    try {
      List<Future<Sample>> runs = new ArrayList<>();
      for (Member f : fronts) {
        runs.add(pool.submit(() -> measure(f, Load.http(f.http(path), c, true))));
      }
      Sample[] out = new Sample[fronts.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = runs.get(i).get(seconds.toSeconds() + 120, TimeUnit.SECONDS);
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * JIT warm-up through a front, all of it discarded. With the new member's quota raised to {@link #warmupCpu} (a JIT
   * held to a fraction of a CPU compiles for minutes): light requests at a high rate, since the HTTP, event-bus and TLS
   * paths compile only after thousands of requests, in runs of 5 s until the new member's CPU per request changes by
   * less than 10 % (2 to 12 runs), then 5 s of the measured path. Then at its own quota, until two runs in a row agree
   * within 10 % on req/s and 15 % on its CPU per request (at most 6 runs of 4 s).
   */
  private void warmUp(Member front, String path, int c, Member fresh) throws Exception {
    double quota = fresh.group == null ? Double.NaN : fresh.group.quota;
    if (fresh.group != null) {
      fresh.group.setQuota(Math.min(Math.max(quota, warmupCpu), Math.ceil(quota)));
    }
    try {
      Sample previous = null;
      for (int i = 0; i < 12; i++) {
        Sample s = measure(fresh, Load.http(front.http(LIGHT), 32, true), Duration.ofSeconds(5));
        if (previous != null && settled(previous, s, 1, 0.1)) {
          break;
        }
        previous = s;
      }
      generate(Load.http(front.http(path), c, true), Duration.ofSeconds(5));
    } finally {
      if (fresh.group != null) {
        fresh.group.setQuota(quota);
      }
    }
    settle(front, path, c, fresh);
  }

  /** Runs of 4 s until two in a row agree within 10 % on req/s and 15 % on the member's CPU per request (at most 6). */
  private void settle(Member front, String path, int c, Member member) throws Exception {
    Sample previous = null;
    for (int i = 0; i < 6; i++) {
      Sample s = measure(member, Load.http(front.http(path), c, true), Duration.ofSeconds(4));
      if (previous != null && settled(previous, s, 0.1, 0.15)) {
        return;
      }
      previous = s;
    }
  }

  /** Whether req/s and CPU per request of two runs agree within the given fractions. */
  private static boolean settled(Sample a, Sample b, double rps, double cpu) {
    return Math.abs(b.rps() - a.rps()) <= rps * a.rps()
      && Math.abs(b.serverCpuMicros() - a.serverCpuMicros()) <= cpu * a.serverCpuMicros();
  }

  /** The CPU a member burns with no load at all (Hazelcast, pings, timers), in cores, over 5 s. */
  private static double idleCores(Member m) throws InterruptedException {
    double cpu0 = m.cpuSeconds();
    long t0 = System.nanoTime();
    Thread.sleep(5000);
    return (m.cpuSeconds() - cpu0) / ((System.nanoTime() - t0) / 1e9);
  }

  private Sample generate(Load load, Duration d) throws Exception {
    return wrk != null ? wrk.run(load, d) : bench.run(load, d, Duration.ZERO);
  }

  /**
   * Sends requests through the front until each of the workers has answered one (the front uses a member only once
   * it answered its ping): bounded, 120 s at most, since a member on a fraction of a CPU starts slowly.
   */
  private void awaitServing(Member front, String path, List<Member> workers) throws Exception {
    Set<String> want = new HashSet<>();
    for (Member w : workers) {
      want.add(w.name);
    }
    Set<String> seen = new HashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    String last = "";
    while (System.nanoTime() < deadline) {
      HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(front.http(path)))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      last = resp.statusCode() + " " + resp.body();
      if (resp.statusCode() == 200) {
        String worker = new JsonObject(resp.body()).getString("worker", "");
        seen.add(worker.contains("/") ? worker.substring(0, worker.indexOf('/')) : worker);
        if (seen.containsAll(want)) {
          return;
        }
      } else {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("workers " + want + " did not all answer through " + front.name + " within 120 s"
      + " (answered: " + seen + "; last reply " + SuiteProcesses.tail(last, 1) + ")");
  }

  private static void print(String id, String label, Sample s) {
    System.out.printf("   %-4s %-72s %8.0f req/s  p99 %7.2f ms  front CPU %6.1f µs/req%s%n", id, label, s.rps(),
      s.p99Ms(), s.serverCpuMicros(), s.errors() == 0 ? "" : "  errors " + s.errors() + " " + s.detail());
  }

  private static String cpus(double cpus) {
    return String.format(Locale.ROOT, "%.2f CPU", cpus);
  }

  // ---- members -------------------------------------------------------------------------------------------------------

  /**
   * Starts a member on 127.0.0.1 with event-bus TLS, no database, this run's cluster name, Hazelcast on its own port
   * and joining through {@code seed}; with a quota, inside a new CPU group from its first instruction (so the JVM sizes
   * its thread pools for the host it is on).
   */
  private Member start(String name, String role, int hazelcastPort, int seed, Double quota) throws IOException {
    List<String> args = List.of("--cluster", "--role", role, "--cluster-host", "127.0.0.1", "--host", "127.0.0.1",
      "--http-port", "0", "--tcp-port", "0", "--set", "cluster.name=" + clusterName,
      "--set", "cluster.hazelcastPort=" + hazelcastPort, "--set", "cluster.members=127.0.0.1:" + seed,
      "--set", "node.name=" + name, "--set", "mysql.host=off",
      "--set", "cluster.tls.cert=" + certs.resolve("member-127.0.0.1.pem"),
      "--set", "cluster.tls.key=" + certs.resolve("member-127.0.0.1-key.pem"),
      "--set", "cluster.tls.ca=" + certs.resolve("ca.pem"));
    CpuGroup group = null;
    List<String> runIn = List.of();
    if (quota != null) {
      // the JVM sizes its pools from ceil(quota) at start, so it starts as fast as that allows: warmUp lowers it
      group = CpuGroup.create(prefix + name, quota, shares);
      group.setQuota(Math.min(Math.max(quota, warmupCpu), Math.ceil(quota)));
      runIn = group.runIn();
    }
    Path log = Files.createDirectories(work.resolve("logs")).resolve(name + ".log");
    ServiceProcess p;
    try {
      p = ServiceProcess.launch(runIn, jar, log, List.of(), Map.of(), args);
    } catch (IOException | RuntimeException e) {
      if (group != null) {
        group.close();
      }
      throw e;
    }
    Member m = new Member(name, p, group);
    synchronized (this) {
      members.add(m);
    }
    System.out.println("   member " + name + " (" + role + (quota != null ? ", " + cpus(quota) : ", no quota")
      + "), pid " + p.pid() + ", log " + log);
    return m;
  }

  private synchronized void stopAll() {
    for (int i = members.size() - 1; i >= 0; i--) {
      members.get(i).close();
    }
    members.clear();
  }

  /** Stops every member and removes every CPU group; safe to call twice (also from a shutdown hook). */
  @Override
  public void close() {
    stopAll();
    if (harness != null) {
      harness.close();
    }
  }

  /** A member JVM of the scenario and its CPU group (null without a quota). */
  static final class Member implements AutoCloseable {
    final String name;
    final ServiceProcess process;
    final CpuGroup group;

    Member(String name, ServiceProcess process, CpuGroup group) {
      this.name = name;
      this.process = process;
      this.group = group;
    }

    /** Waits until it has written its ports, bounded (150 s: a JVM on a fraction of a CPU starts slowly). */
    void awaitReady() throws Exception {
      process.awaitReady(Duration.ofSeconds(150));
      JsonObject ports = process.ports();
      System.out.println("   member " + name + " ready" + (ports.containsKey("http") ? ": HTTP " + ports.getInteger("http")
        : "") + ", Hazelcast " + ports.getInteger("hazelcast") + ", event bus " + ports.getInteger("clusterBus"));
    }

    String http(String pathAndQuery) {
      return "http://127.0.0.1:" + process.httpPort() + pathAndQuery;
    }

    /** Its CPU time so far (user + system, from /proc), in seconds. */
    double cpuSeconds() {
      return Cpu.seconds(ProcessHandle.of(process.pid()).orElse(null));
    }

    /** SIGTERM and a bounded wait, SIGKILL as the last resort; then its CPU group goes. */
    @Override
    public void close() {
      try {
        process.close();
      } finally {
        if (group != null) {
          group.close();
        }
      }
    }
  }

  /**
   * A cgroup v1 CPU group with a CFS quota: a host of a fixed size. Closing it moves whatever still runs in it back
   * to the root group, then removes it.
   */
  static final class CpuGroup implements AutoCloseable {
    final Path dir;
    final double quota;
    private boolean closed;

    private CpuGroup(Path dir, double quota) {
      this.dir = dir;
      this.quota = quota;
    }

    /** A group of {@code cpus} CPU (0: no quota) with the given cpu.shares. */
    static CpuGroup create(String name, double cpus, long shares) throws IOException {
      Path dir = CPU_ROOT.resolve(name);
      Files.createDirectory(dir);
      CpuGroup group = new CpuGroup(dir, cpus);
      try {
        Files.writeString(dir.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_MICROS));
        Files.writeString(dir.resolve("cpu.shares"), Long.toString(shares));
        group.setQuota(cpus);
      } catch (IOException e) {
        group.close();
        throw e;
      }
      return group;
    }

    void setQuota(double cpus) throws IOException {
      Files.writeString(dir.resolve("cpu.cfs_quota_us"), cpus > 0 ? Long.toString(Math.round(cpus * PERIOD_MICROS)) : "-1");
    }

    /** Moves a process, all its threads, into this group; what it forks later starts here too. */
    void add(long pid) throws IOException {
      Files.writeString(dir.resolve("cgroup.procs"), Long.toString(pid));
    }

    /** What a command runs under so that it starts in this group: a shell that moves itself there, then execs it. */
    List<String> runIn() {
      return List.of("sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "sh");
    }

    /** nr_throttled and throttled seconds from cpu.stat: proof that the quota bit. */
    String throttled() {
      try {
        long periods = 0;
        double secs = 0;
        for (String line : Files.readAllLines(dir.resolve("cpu.stat"))) {
          String[] f = line.split(" ");
          if (f[0].equals("nr_throttled")) {
            periods = Long.parseLong(f[1]);
          } else if (f[0].equals("throttled_time")) {
            secs = Long.parseLong(f[1]) / 1e9;
          }
        }
        return String.format(Locale.ROOT, "%d periods/%.1f s", periods, secs);
      } catch (IOException | RuntimeException e) {
        return "n/a";
      }
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      try {
        for (String pid : Files.readAllLines(dir.resolve("cgroup.procs"))) {
          if (!pid.isBlank()) {
            try {
              Files.writeString(CPU_ROOT.resolve("cgroup.procs"), pid.strip());
            } catch (IOException e) {
              // it exited meanwhile
            }
          }
        }
      } catch (IOException e) {
        // no such group (any more): nothing to move
      }
      // the kernel may need a moment after the last task left
      for (int i = 0; i < 50 && Files.exists(dir); i++) {
        try {
          Files.delete(dir);
        } catch (IOException e) {
          try {
            Thread.sleep(100);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      closed = !Files.exists(dir);
      if (!closed) {
        System.err.println("bench: could not remove CPU group " + dir + " (rmdir it by hand)");
      }
    }
  }
}
