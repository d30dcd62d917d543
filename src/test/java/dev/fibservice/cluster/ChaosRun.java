package dev.fibservice.cluster;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A chaos run: the cluster across network namespaces ({@link Hosts}, every name prefixed {@value #PREFIX}, addresses
 * in 198.19.X.0/25) of a front, two workers and the database process on a host of its own, under the mixed load of
 * {@link MixedLoad} drawn from a seed, while the faults of a {@link ChaosSchedule} drawn from the same seed strike and
 * heal one after the other. Every operation goes to the history (start, end, outcome, value), with the faults' own
 * times; after the last heal the run waits for every member to be ready, and {@link ChaosChecker} judges the history.
 * Needs root, iproute2, nftables, openssl and python3 (the database's forwarder).
 *
 * <p>The members run with {@code fib.timeoutMs} of {@value #TIMEOUT_MS} ms (so that a deadline overrun shows within a
 * short run) and the database's query timeout of 2 s.
 */
public final class ChaosRun implements AutoCloseable {

  public static final String PREFIX = "chaos";
  static final String DB = "db";
  static final long TIMEOUT_MS = 8_000;
  static final int HTTP_PORT = 8080;
  static final int TCP_PORT = 25000;
  static final int BRIDGE_PORT = 7000;
  static final int OPS_PORT = 9090;
  static final int MYSQL_PORT = 3306;
  /** How long a member may take to start: minutes, on a machine as loaded as a shared CI runner gets. */
  static final Duration START_WITHIN = Duration.ofSeconds(Long.getLong("chaos.startSeconds", 300));

  /** When a fault struck and when its heal was done (System.nanoTime()). */
  public record Window(ChaosSchedule.Fault fault, long startNanos, long healedNanos) {
  }

  final long seed;
  final ChaosSchedule schedule;
  final Hosts hosts;
  final Path dataDir;
  private final List<String> memberAddresses;
  private final java.util.Map<String, Certs> certs;
  private final String clusterName;
  private final java.util.Map<String, Hosts.Member> members = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<String, List<String>> argsOf = new java.util.HashMap<>();
  private final List<Window> windows = Collections.synchronizedList(new ArrayList<>());
  private final List<MixedLoad.Op> history = Collections.synchronizedList(new ArrayList<>());
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(3)).build();
  private final StringBuilder log = new StringBuilder();
  long t0;

  /** Why a chaos run cannot run here, or null. */
  public static String unavailable() {
    String why = NamespacedCluster.unavailable();
    if (why != null) {
      return why;
    }
    return java.nio.file.Files.isExecutable(Path.of("/usr/bin/python3")) ? null
      : "Debian's /usr/bin/python3 is missing (the database's forwarder)";
  }

  private ChaosRun(long seed, ChaosSchedule schedule, Hosts hosts, Path work) throws Exception {
    this.seed = seed;
    this.schedule = schedule;
    this.hosts = hosts;
    this.dataDir = work.resolve("mariadb").toAbsolutePath();
    this.memberAddresses = List.of(NamespacedCluster.FRONT, NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B)
      .stream().map(n -> hosts.host(n).address()).toList();
    this.certs = Certs.make(work.resolve("certs"), memberAddresses.toArray(String[]::new));
    this.clusterName = PREFIX + "-" + ProcessHandle.current().pid() + "-" + seed;
  }

  /** Makes the hosts and starts the database, the front and the workers; waits until the front uses both workers. */
  public static ChaosRun start(long seed, ChaosSchedule schedule, Path work) throws Exception {
    Files.createDirectories(work);
    Hosts hosts = Hosts.create(PREFIX, List.of(NamespacedCluster.FRONT, NamespacedCluster.WORKER_A,
      NamespacedCluster.WORKER_B, DB));
    try {
      ChaosRun run = new ChaosRun(seed, schedule, hosts, work);
      run.startDb();
      Hosts.Host db = hosts.host(DB);
      hosts.spawn(db, work.resolve("forwarder.log"), List.of("/usr/bin/python3",
        Path.of("src", "test", "resources", "chaos", "forward.py").toString(), db.address(),
        Integer.toString(MYSQL_PORT), "127.0.0.1", Integer.toString(MYSQL_PORT)));
      run.startMember(NamespacedCluster.FRONT);
      run.startMember(NamespacedCluster.WORKER_A);
      run.startMember(NamespacedCluster.WORKER_B);
      for (String m : List.of(NamespacedCluster.FRONT, NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B)) {
        run.members.get(m).awaitReady(START_WITHIN);
      }
      run.awaitWorkersAlive(START_WITHIN);
      return run;
    } catch (Exception | Error e) {
      hosts.close();
      throw e;
    }
  }

  private void startDb() throws Exception {
    Hosts.Member db = hosts.start(hosts.host(DB), DB, List.of("-Xmx128m"), List.of("db", "--port",
      Integer.toString(MYSQL_PORT), "--data-dir", dataDir.toString()));
    members.put(DB, db);
    db.awaitReady(START_WITHIN);
  }

  private void startMember(String name) throws IOException {
    List<String> args = argsOf.computeIfAbsent(name, this::argsFor);
    members.put(name, hosts.start(hosts.host(name), name, args));
  }

  private List<String> argsFor(String name) {
    Hosts.Host h = hosts.host(name);
    boolean front = NamespacedCluster.FRONT.equals(name);
    List<String> args = new ArrayList<>(List.of("--cluster", "--role", front ? "http" : "worker", "--cluster-host",
      h.address(), "--set", "cluster.members=" + String.join(",", memberAddresses), "--set", "cluster.name=" + clusterName,
      "--set", "node.name=" + name, "--set", "eventLoops=2", "--set", "fib.heavyWorkers=2",
      "--set", "mysql.host=" + hosts.host(DB).address(), "--set", "mysql.port=" + MYSQL_PORT,
      "--set", "mysql.passwordFile=" + dataDir.resolve("fib-service-password"),
      "--set", "mysql.queryTimeoutMs=2000", "--set", "fib.timeoutMs=" + TIMEOUT_MS,
      "--set", "sockjs.replyTimeoutMs=" + (TIMEOUT_MS + 5000), "--set", "jobs.leaseMs=5000",
      "--set", "shutdown.graceMs=2000"));
    args.addAll(certs.get(h.address()).flags());
    if (front) {
      args.addAll(List.of("--host", h.clientAddress(), "--http-port", Integer.toString(HTTP_PORT), "--tcp-port",
        Integer.toString(TCP_PORT), "--bridge-port", Integer.toString(BRIDGE_PORT), "--set",
        "bridge.host=" + h.clientAddress(), "--instances", "2"));
    } else {
      args.addAll(List.of("--set", "ops.enabled=true", "--set", "ops.port=" + OPS_PORT));
    }
    return args;
  }

  /** Where the load goes: the front, over its client link. */
  public MixedLoad.Target target() {
    return new MixedLoad.Target(hosts.host(NamespacedCluster.FRONT).clientAddress(), HTTP_PORT, TCP_PORT, BRIDGE_PORT);
  }

  /** Records an operation (the MixedLoad's sink). */
  void record(MixedLoad.Op op) {
    history.add(op);
  }

  List<MixedLoad.Op> history() {
    synchronized (history) {
      return new ArrayList<>(history);
    }
  }

  List<Window> windows() {
    synchronized (windows) {
      return new ArrayList<>(windows);
    }
  }

  /**
   * The run: the load at {@code rate} from the seed, the schedule struck and healed fault by fault, a calm of
   * {@code tailMs} after the last heal under load, then the load stopped and every member awaited ready.
   *
   * @return the load's figures and the readiness after the last heal, for the checker
   */
  public Result run(double rate, long tailMs) throws Exception {
    MixedLoad load = new MixedLoad(target(), seed, MixedLoad.Mix.standard(true), 128,
      Duration.ofMillis(TIMEOUT_MS + 20_000), this::record);
    t0 = System.nanoTime();
    load.startAtRate(rate);
    try {
      for (ChaosSchedule.Fault f : schedule.faults()) {
        Thread.sleep(f.calmMs());
        long start = System.nanoTime();
        note("fault: " + f);
        strike(f);
        Thread.sleep(f.durationMs());
        heal(f);
        long healed = System.nanoTime();
        windows.add(new Window(f, start, healed));
        note("healed: " + f + " (" + TimeUnit.NANOSECONDS.toMillis(healed - start) + " ms)");
      }
      Thread.sleep(tailMs);
    } finally {
      load.stop();
    }
    long lastHeal = windows.isEmpty() ? t0 : windows.get(windows.size() - 1).healedNanos();
    Readiness ready = awaitReady(START_WITHIN);
    note("ready after the last heal: " + ready);
    return new Result(load.sent(), load.skipped(), lastHeal, ready);
  }

  /** What the run saw beside the history. */
  public record Result(long sent, long skipped, long lastHealNanos, Readiness readiness) {
  }

  /** Whether each member said ready after the last heal, and the front reached both workers. */
  public record Readiness(Map<String, String> members, boolean bothWorkersAnswer, long readyAfterMs) {
    boolean ok() {
      return bothWorkersAnswer && members.values().stream().allMatch("UP"::equals);
    }
  }

  private void strike(ChaosSchedule.Fault f) throws Exception {
    Hosts.Member m = members.get(f.target());
    switch (f.kind()) {
      case KILL_WORKER, KILL_DB -> m.killTree();
      case STOP_MEMBER -> m.pause();
      case PARTITION_WORKER -> hosts.cut(hosts.host(f.target()));
      case RESTART_FRONT -> m.stop();
    }
  }

  private void heal(ChaosSchedule.Fault f) throws Exception {
    switch (f.kind()) {
      case KILL_WORKER, RESTART_FRONT -> {
        startMember(f.target());
        members.get(f.target()).awaitReady(START_WITHIN);
      }
      case KILL_DB -> startDb();
      case STOP_MEMBER -> members.get(f.target()).resume();
      case PARTITION_WORKER -> hosts.heal(hosts.host(f.target()));
    }
  }

  /** Polls every member's /health/ready (a worker's through its own namespace) and /fib through the front. */
  Readiness awaitReady(Duration max) throws Exception {
    long start = System.nanoTime();
    long deadline = start + max.toNanos();
    Map<String, String> states = new java.util.TreeMap<>();
    boolean both = false;
    while (System.nanoTime() < deadline) {
      states.put(NamespacedCluster.FRONT, readyOfFront());
      for (String w : List.of(NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B)) {
        // the status code last, on a line of its own: 200 when ready
        String[] r = hosts.exec(hosts.host(w), List.of("curl", "-s", "-m", "3", "-w", "\n%{http_code}",
          "http://127.0.0.1:" + OPS_PORT + "/health/ready"));
        states.put(w, r[1].strip().endsWith("\n200") ? "UP" : "DOWN " + r[1].strip());
      }
      both = both || bothWorkersAnswer();
      if (both && states.values().stream().allMatch("UP"::equals)) {
        break;
      }
      Thread.sleep(500);
    }
    return new Readiness(states, both, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  private String readyOfFront() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target().host() + ":"
        + HTTP_PORT + "/health/ready")).timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? "UP" : "DOWN " + r.body();
    } catch (IOException e) {
      return "DOWN " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "DOWN interrupted";
    }
  }

  /** Twenty heavy n through the front answered by both workers (rendezvous hashing spreads them). */
  private boolean bothWorkersAnswer() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int n = 70_000; n < 70_020; n++) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target().host() + ":"
          + HTTP_PORT + "/fib/" + n)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          String worker = new JsonObject(r.body()).getString("worker", "");
          seen.add(worker.contains("/") ? worker.substring(0, worker.indexOf('/')) : worker);
        }
      } catch (IOException | RuntimeException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return seen.containsAll(List.of(NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B));
  }

  void awaitWorkersAlive(Duration max) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!bothWorkersAnswer()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the front does not reach both workers within " + max.toSeconds() + " s"
          + logs());
      }
      Thread.sleep(500);
    }
  }

  /** GET through the front, for the checker's final reads. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + target().host() + ":" + HTTP_PORT + path))
      .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void note(String line) {
    String l = String.format(java.util.Locale.ROOT, "%8.1f s  %s", (System.nanoTime() - t0) / 1e9, line);
    System.out.println("chaos: " + l);
    synchronized (log) {
      log.append(l).append('\n');
    }
  }

  String notes() {
    synchronized (log) {
      return log.toString();
    }
  }

  /** The history as JSON lines (one operation each, times in ms from the run's start) and the faults' windows. */
  void writeHistory(Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file)) {
      for (Window win : windows()) {
        w.write(new JsonObject().put("fault", win.fault().kind().name()).put("target", win.fault().target())
          .put("startMs", (win.startNanos() - t0) / 1e6).put("healedMs", (win.healedNanos() - t0) / 1e6).encode());
        w.write('\n');
      }
      List<MixedLoad.Op> ops = history();
      ops.sort(java.util.Comparator.comparingLong(MixedLoad.Op::seq));
      for (MixedLoad.Op op : ops) {
        w.write(op.toJson(t0).encode());
        w.write('\n');
      }
    }
  }

  /** For failure messages: the end of each member's log. */
  String logs() {
    StringBuilder b = new StringBuilder();
    members.forEach((name, m) -> {
      try {
        String l = m.log();
        b.append("\n--- ").append(name).append(" ---\n").append(l, Math.max(0, l.length() - 3000), l.length());
      } catch (IOException e) {
        b.append("\n--- ").append(name).append(": ").append(e);
      }
    });
    return b.toString();
  }

  @Override
  public void close() {
    hosts.close();
  }
}
