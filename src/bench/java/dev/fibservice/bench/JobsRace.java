package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import io.vertx.core.json.JsonObject;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code make bench ARGS=jobs}: fib-service's background jobs against Celery (Debian's python3-celery, Redis as broker
 * and result backend, acks_late, prefetch 1, concurrency = jobs.workers), the same jobs on both sides, side by side in
 * one run, rounds alternating which side goes first: jobs per second from the first submit to the last DONE, for tiny
 * jobs (F(10)) and for F(10^5), and submit-to-start at an empty queue. The drivers are one Python script
 * (bench/peers/jobs_race.py), so both sides are submitted to by the same kind of client. Results in
 * bench/results/DATE-jobs.md; skipped, saying why, without python3-celery or redis-server.
 */
final class JobsRace implements AutoCloseable {

  private static final Path SCRIPT = Path.of("bench", "peers", "jobs_race.py");
  private static final String PYTHON = "/usr/bin/python3";

  private final BenchSuite suite;
  private final int workers;
  private final int rounds;
  private final List<Process> peers = new ArrayList<>();
  private final List<String> lines = new ArrayList<>();

  JobsRace(BenchSuite suite) {
    this.suite = suite;
    this.workers = Integer.getInteger("bench.jobs.workers", suite.cores);
    this.rounds = suite.rounds;
  }

  /** Why the race cannot run here, or null. */
  static String missing() throws Exception {
    if (!Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
      return "redis-server is not installed (apt-get install redis-server)";
    }
    Process p = new ProcessBuilder(PYTHON, "-c", "import celery, redis").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    return p.waitFor() == 0 ? null : "python3-celery is not importable (apt-get install python3-celery python3-redis): "
      + out.trim();
  }

  void run() throws Exception {
    String why = missing();
    if (why != null) {
      System.out.println("   jobs: skipped: " + why);
      suite.report.note("The jobs race against Celery did not run: " + why);
      return;
    }
    int redisPort = freePort();
    Path logs = suite.work.resolve("logs");
    Files.createDirectories(logs);
    peers.add(new ProcessBuilder("/usr/bin/redis-server", "--port", String.valueOf(redisPort), "--bind", "127.0.0.1",
      "--save", "", "--appendonly", "no").redirectErrorStream(true).redirectOutput(logs.resolve("redis.log").toFile())
      .start());
    String redis = "redis://127.0.0.1:" + redisPort + "/0";
    peers.add(new ProcessBuilder(PYTHON, SCRIPT.toString(), "worker", redis, String.valueOf(workers))
      .redirectErrorStream(true).redirectOutput(logs.resolve("celery-worker.log").toFile()).start());
    ServiceProcess node = suite.startNode("jobs-race", List.of("--set", "ops.enabled=true", "--set", "ops.port=0",
      "--set", "jobs.workers=" + workers, "--set", "jobs.maxPending=100000", "--set", "jobs.pollMs=500",
      "--set", "fib.warmup=false"));
    if (node == null) {
      throw new IllegalStateException("the jobs-race node did not start; see " + logs);
    }
    String http = "http://127.0.0.1:" + node.httpPort();
    String ops = "http://127.0.0.1:" + node.opsPort();
    awaitDatabase(http);
    lines.add("| round | jobs of | jobs | side | jobs/s (submit to DONE) | submits took s | submit-to-start p50 ms | p99 ms |");
    lines.add("|---|---|---|---|---|---|---|---|");
    int[][] work = {{10, Integer.getInteger("bench.jobs.tiny", 2000)}, {100_000, Integer.getInteger("bench.jobs.big", 100)}};
    for (int round = 1; round <= rounds; round++) {
      for (int[] w : work) {
        int probes = w[0] == 10 ? 50 : 0;
        List<String[]> sides = new ArrayList<>(List.of(
          new String[] {PYTHON, SCRIPT.toString(), "fib", http, ops, String.valueOf(w[1]), String.valueOf(w[0]),
            String.valueOf(probes)},
          new String[] {PYTHON, SCRIPT.toString(), "celery", redis, String.valueOf(w[1]), String.valueOf(w[0]),
            String.valueOf(probes)}));
        if (round % 2 == 0) {
          java.util.Collections.reverse(sides);
        }
        for (String[] side : sides) {
          JsonObject r = drive(side);
          String row = String.format("| %d | F(%d) | %d | %s | %.0f | %.1f | %s | %s |", round, w[0], w[1],
            r.getString("side"), r.getDouble("jobsPerSecond"), r.getDouble("submitSeconds"),
            ms(r.getDouble("startP50Ms")), ms(r.getDouble("startP99Ms")));
          System.out.println("   " + row);
          lines.add(row);
        }
      }
    }
    write();
  }

  private static String ms(Double v) {
    return v == null ? "-" : String.format("%.1f", v);
  }

  private JsonObject drive(String[] command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    String err = new String(p.getErrorStream().readAllBytes()).trim();
    if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0 || out.isEmpty()) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out + " " + err);
    }
    String[] all = out.split("\n");
    return new JsonObject(all[all.length - 1]);
  }

  private void awaitDatabase(String http) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try {
        if (BenchSuite.fetch(http + "/db").contains("\"value\"")) {
          return;
        }
      } catch (Exception ignore) {
        // not yet
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the jobs-race node's database never became ready");
  }

  private void write() throws Exception {
    String load = Files.readString(Path.of("/proc/loadavg")).trim();
    Path file = suite.outDir.resolve(LocalDate.now(ZoneOffset.UTC) + "-jobs.md");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "# Jobs: fib-service against Celery, " + LocalDate.now(ZoneOffset.UTC) + "\n\n"
      + "Same machine, side by side, rounds alternating who goes first; " + suite.cores + " cores, load average at"
      + " the end " + load + ". Celery " + version() + " with Redis (broker and results), acks_late, prefetch 1,"
      + " prefork concurrency " + workers + "; fib-service jobs.workers " + workers + ", its embedded MariaDB."
      + " Drivers: bench/peers/jobs_race.py (8 submitting threads for fib-service, one for Celery's delay())."
      + " DONE: AsyncResult.get() for Celery, the job events (ops port /jobs/events) for fib-service.\n\n"
      + String.join("\n", lines) + "\n");
    System.out.println("   jobs: " + file);
  }

  private static String version() {
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import celery; print(celery.__version__)").start();
      return new String(p.getInputStream().readAllBytes()).trim();
    } catch (Exception e) {
      return "?";
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    for (Process p : peers) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
