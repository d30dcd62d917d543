package dev.fibservice.bench;

import dev.fibservice.ServiceProcess;
import dev.fibservice.TestConf;
import dev.fibservice.api.Version;
import dev.fibservice.cluster.UpgradeCluster;
import dev.fibservice.cluster.UpgradeLoad;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code make bench ARGS=upgrade}: the rolling upgrade of RollingUpgradeIT with more load and time, and two faults
 * during the roll: a kill -9 of a worker not yet replaced while the fronts are being replaced (the command starts it
 * first, with the new jar, before it stops anyone else), and a partition of a worker (nft drops its cluster ports'
 * packets, silently) during the rollback, healed after 20 s. The p99 of light requests before, during and after; the
 * failed requests (the target is 0), the jobs and the people checked afterwards; what the command said. Its report
 * goes to bench/results/DATE-upgrade.md.
 */
final class UpgradeScenario {

  private static final long FIB_TIMEOUT_MS = 60_000;
  private static final long QUERY_TIMEOUT_MS = 30_000;
  private static final String TABLE = "fibupgrade" + ProcessHandle.current().pid();

  private final Path work;
  private final Path outDir;
  private final Duration steady;
  private final List<String> notes = new ArrayList<>();

  UpgradeScenario(Path work, Path outDir, Duration steady) {
    this.work = work.resolve("upgrade").toAbsolutePath();
    this.outDir = outDir;
    this.steady = steady;
  }

  void run() throws Exception {
    if (!UpgradeCluster.nginxInstalled()) {
      System.out.println("   upgrade: nginx is not installed (make test-tools): skipped");
      return;
    }
    long t0 = System.nanoTime();
    String tag = UpgradeCluster.previousRelease();
    Path previous = UpgradeCluster.previousJar(tag, work.resolve("release-jar.log"));
    Path current = ServiceProcess.jar();
    String args = "--conf " + TestConf.CONFIG + " --set fib.warmup=false --set workerInstances=1 --set eventLoops=2"
      + " --set fib.timeoutMs=" + FIB_TIMEOUT_MS + " --set mysql.queryTimeoutMs=" + QUERY_TIMEOUT_MS
      + " --set mysql.connectTimeoutMs=10000 --set jobs.leaseMs=30000";
    String load1 = uptime();
    try (UpgradeCluster cluster = new UpgradeCluster(work.resolve("run"), work.resolve("mariadb"), args)) {
      UpgradeCluster.Result started = cluster.start(previous);
      if (started.exit() != 0) {
        throw new IllegalStateException("cluster.sh start failed:\n" + started.output());
      }
      UpgradeLoad.Shape shape = new UpgradeLoad.Shape(4, 10, 34, 100, 50, 50, 200, 4, 10, FIB_TIMEOUT_MS,
        QUERY_TIMEOUT_MS);
      UpgradeLoad load = new UpgradeLoad(shape, cluster.port("HTTP_PORT"), cluster.port("TCP_PORT"),
        cluster.port("BRIDGE_PORT"));
      UpgradeCluster.Result up;
      UpgradeCluster.Result back;
      try {
        load.start();
        Thread.sleep(steady.toMillis());
        load.phase("during");
        // fault 1: while the fronts are replaced, kill -9 of worker-2, still the previous release
        long said = count(cluster.output("upgrade"), "step 2 of");
        CompletableFuture<UpgradeCluster.Result> forward = async(() -> cluster.upgrade(current));
        awaitLine(cluster, "step 2 of", said, Duration.ofMinutes(15));
        long pid = cluster.pid("worker-2");
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        notes.add("kill -9 of worker-2 (pid " + pid + ", " + tag + ") at step 2 of the upgrade");
        up = forward.get(30, TimeUnit.MINUTES);
        // fault 2: during the rollback (the workers first), worker-1's cluster ports partitioned for 20 s while the
        // first front is replaced
        said = count(cluster.output("upgrade"), "step 3 of");
        CompletableFuture<UpgradeCluster.Result> rollback = async(() -> cluster.upgrade(previous));
        awaitLine(cluster, "step 3 of", said, Duration.ofMinutes(15));
        Map<String, String> ports = cluster.memberPorts("worker-1");
        String hz = ports.get("hazelcast");
        String bus = ports.get("clusterBus");
        partition(hz, bus);
        notes.add("worker-1's Hazelcast " + hz + " and event-bus " + bus + " ports partitioned (nft drop, no RST) at"
          + " step 3 of the rollback (a front replaced), healed after 20 s");
        try {
          Thread.sleep(20_000);
        } finally {
          heal();
        }
        back = rollback.get(30, TimeUnit.MINUTES);
        if (back.exit() != 0) {
          // the command stopped (a member unsafe or lost): it says why; run again, as the docs say
          notes.add("the rollback stopped: " + lastLines(back.output(), 3) + "; run again");
          back = cluster.upgrade(previous);
        }
        load.phase("after");
        Thread.sleep(steady.toMillis());
      } finally {
        load.close();
        heal();
      }
      int again = load.checkJobs(Duration.ofMinutes(3));
      load.checkPeople();
      write(tag, Version.current(), load, again, up, back, load1, uptime(), Duration.ofNanos(System.nanoTime() - t0),
        cluster.versions());
    }
  }

  private interface Step {
    UpgradeCluster.Result run() throws Exception;
  }

  private static CompletableFuture<UpgradeCluster.Result> async(Step step) {
    CompletableFuture<UpgradeCluster.Result> f = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        f.complete(step.run());
      } catch (Throwable e) {
        f.completeExceptionally(e);
      }
    }, "upgrade-command");
    t.setDaemon(true);
    t.start();
    return f;
  }

  /** Waits until the command's output (as it runs) has more lines containing the text than {@code before}. */
  private static void awaitLine(UpgradeCluster cluster, String text, long before, Duration max) throws Exception {
    Path log = cluster.output("upgrade");
    long end = System.nanoTime() + max.toNanos();
    while (count(log, text) <= before) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException("the command never said '" + text + "'");
      }
      Thread.sleep(200);
    }
  }

  private static long count(Path log, String text) throws Exception {
    return Files.exists(log) ? Files.readAllLines(log).stream().filter(l -> l.contains(text)).count() : 0;
  }

  private static void partition(String... ports) throws Exception {
    String set = String.join(", ", ports);
    nft("table inet " + TABLE + " {\n"
      + " chain in { type filter hook input priority -300; policy accept; tcp dport { " + set + " } drop;"
      + " tcp sport { " + set + " } drop; }\n"
      + " chain out { type filter hook output priority -300; policy accept; tcp dport { " + set + " } drop;"
      + " tcp sport { " + set + " } drop; }\n}\n");
  }

  private static void heal() throws Exception {
    Process p = new ProcessBuilder("nft", "delete", "table", "inet", TABLE).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  private static void nft(String rules) throws Exception {
    Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
    p.getOutputStream().write(rules.getBytes());
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("nft refused the partition: " + out);
    }
  }

  private static String uptime() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[0] + ", "
        + Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[1] + ", "
        + Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[2];
    } catch (Exception e) {
      return "?";
    }
  }

  private static String lastLines(String text, int n) {
    String[] lines = text.strip().split("\n");
    return String.join(" / ", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
  }

  private void write(String tag, String to, UpgradeLoad load, int again, UpgradeCluster.Result up,
                     UpgradeCluster.Result back, String loadBefore, String loadAfter, Duration took,
                     Map<String, String> versions) throws Exception {
    String day = LocalDate.now(ZoneOffset.UTC).toString();
    StringBuilder md = new StringBuilder();
    md.append("# Rolling upgrade under load, ").append(day).append("\n\n");
    md.append("`make bench ARGS=upgrade` (`UpgradeScenario`): `make cluster FRONTS=2 LB=nginx` from ").append(tag)
      .append("'s jar (the database process, two fronts behind Debian's nginx, two workers), every member replaced by ")
      .append(to).append(" with `make cluster-upgrade`, then rolled back the same way, under a mixed load through nginx")
      .append(" the whole time (light and heavy `/fib`, `/db`, people writes, jobs, TCP line, TCP-bridge and SockJS")
      .append(" clients that reconnect). Two faults during the roll, below. The machine was shared with other builds")
      .append(" (2 cores; load average ").append(loadBefore).append(" at the start, ").append(loadAfter)
      .append(" at the end): the latencies are this machine's under that load, compare them with each other.\n\n");
    md.append("**Failed requests: ").append(load.failed()).append("** (the target is 0). Took ")
      .append(took.toSeconds()).append(" s.\n\n");
    md.append("| load | counts |\n|---|---|\n");
    load.counts().forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    md.append("| jobs | ").append(load.jobsSubmitted()).append(" submitted, checked DONE with the right digits; ")
      .append(again).append(" ran again after a hand-back |\n");
    md.append("| people | ").append(load.peopleWritten()).append(" written, each read back afterwards |\n\n");
    md.append("| light `/fib` | requests | p50 ms | p99 ms |\n|---|---:|---:|---:|\n");
    for (String phase : List.of("before", "during", "after")) {
      md.append(String.format("| %s | %d | %.1f | %.1f |%n", phase, load.lightCount(phase),
        load.lightPercentileMs(phase, 50), load.lightPercentileMs(phase, 99)));
    }
    md.append("\n## Faults\n\n");
    notes.forEach(n -> md.append("- ").append(n).append("\n"));
    md.append("\n## Failures\n\n");
    if (load.failures().isEmpty()) {
      md.append("None.\n");
    } else {
      load.failures().stream().limit(50).forEach(f -> md.append("- `").append(f.replace('`', '\'')).append("`\n"));
    }
    md.append("\n## What the command said\n\nUp (exit ").append(up.exit()).append("):\n\n```\n")
      .append(up.output().lines().filter(l -> !l.contains("-jar ")).reduce("", (a, b) -> a + b + "\n"))
      .append("```\n\nBack (exit ").append(back.exit()).append("):\n\n```\n")
      .append(back.output().lines().filter(l -> !l.contains("-jar ")).reduce("", (a, b) -> a + b + "\n"))
      .append("```\n\nMembers afterwards: ").append(versions).append("\n");
    Files.createDirectories(outDir);
    Path file = outDir.resolve(day + "-upgrade.md");
    Files.writeString(file, md.toString());
    System.out.println("   upgrade: " + load.failed() + " failed requests; report " + file);
  }
}
