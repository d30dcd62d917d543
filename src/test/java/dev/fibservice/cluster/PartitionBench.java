package dev.fibservice.cluster;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The cluster across hosts as figures (one {@code http} and two {@code worker} members in network namespaces, see
 * {@link NamespacedCluster}), printed to standard output:
 * <ul>
 *   <li>{@code partition}: a steady light and heavy stream from 4 client threads through the front; one worker cut
 *       off for 30 s (every packet dropped), then healed, then killed with SIGKILL: requests, failures and the
 *       slowest request before, during and after; when the front suspected it and Hazelcast removed it; how soon
 *       after the heal it served again; failures after the kill;</li>
 *   <li>{@code quota}: each worker in a 0.3-CPU cgroup under full load ({@code wrk -t1 -c16} on
 *       {@code /fib/27?algorithm=recursive} for 60 s): throughput, and whether the front suspected or Hazelcast
 *       removed a worker that never stopped answering ({@code quota-tight} does the same with the front suspecting
 *       after 250 ms instead of 1500 ms, to show the margin).</li>
 * </ul>
 * Needs root, iproute2, nftables (and wrk for the quota scenario). Run from the project directory after
 * {@code make build}:
 * <pre>mvn -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
 * java -cp target/test-classes:target/classes:$(cat target/bench.classpath) dev.fibservice.cluster.PartitionBench [partition] [quota] [quota-tight]</pre>
 */
public final class PartitionBench {

  private static final long PARTITION_SECONDS = 30;

  private PartitionBench() {
  }

  public static void main(String[] args) throws Exception {
    String why = NamespacedCluster.unavailable();
    if (why != null) {
      System.out.println("partition bench skipped: " + why);
      return;
    }
    Set<String> scenarios = new LinkedHashSet<>(args.length == 0 ? List.of("partition", "quota") : List.of(args));
    for (String s : scenarios) {
      switch (s) {
        case "partition" -> partition();
        case "quota" -> quota(List.of());
        case "quota-tight" -> quota(List.of("--set", "cluster.suspectAfterMs=250", "--set", "cluster.pingIntervalMs=100"));
        default -> throw new IllegalArgumentException("unknown scenario " + s + " (partition, quota, quota-tight)");
      }
    }
  }

  private static void partition() throws Exception {
    try (NamespacedCluster c = NamespacedCluster.start(List.of(), List.of()); SteadyLoad load = c.load(4, 900)) {
      load.awaitMore(500, 60);
      Thread.sleep(10_000);
      long warm = System.nanoTime() - TimeUnit.SECONDS.toNanos(10);
      long cut = System.nanoTime();
      c.hosts.cut(c.hosts.host(NamespacedCluster.WORKER_B));
      long suspected = c.await("suspected", 60,
        x -> List.of("suspected", "removed").contains(x.state(NamespacedCluster.WORKER_B)));
      long removed = c.await("removed", 90, x -> "removed".equals(x.state(NamespacedCluster.WORKER_B)));
      sleepUntil(cut + TimeUnit.SECONDS.toNanos(PARTITION_SECONDS));
      long heal = System.nanoTime();
      c.hosts.heal(c.hosts.host(NamespacedCluster.WORKER_B));
      long alive = c.await("alive after the heal", 180, x -> "alive".equals(x.state(NamespacedCluster.WORKER_B)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (load.firstAnswerBy(NamespacedCluster.WORKER_B, heal) < 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      long served = load.firstAnswerBy(NamespacedCluster.WORKER_B, heal);
      Thread.sleep(10_000);
      long kill = System.nanoTime();
      c.workerB.kill();
      long gone = c.await("gone after kill -9", 60,
        x -> List.of("suspected", "removed").contains(x.state(NamespacedCluster.WORKER_B)));
      Thread.sleep(15_000);
      long end = System.nanoTime();
      load.stop();
      JsonObject retries = c.cluster().getJsonObject("retries");

      System.out.println("== partition: 1 http + 2 worker members on 3 network namespaces, TLS on; 4 client threads,"
        + " light /fib/20 and heavy /fib/26 (recursive) in turn");
      window("before (10 s)", load, warm, cut);
      window("partition (" + PARTITION_SECONDS + " s, one worker cut off)", load, cut, heal);
      window("after the heal until the kill", load, heal, kill);
      window("after kill -9 of that worker (" + TimeUnit.NANOSECONDS.toSeconds(end - kill) + " s)", load, kill, end);
      System.out.printf("suspected by the front %d ms after the cut; removed by Hazelcast after %d ms%n",
        ms(suspected - cut), ms(removed - cut));
      System.out.printf("heal: alive on the front after %d ms, first reply from it after %s%n", ms(alive - heal),
        served > 0 ? ms(served - heal) + " ms" : "(none within 60 s)");
      System.out.printf("kill -9: the front saw it gone after %d ms%n", ms(gone - kill));
      System.out.printf("all: %d requests, %d failed %s, slowest %d ms; retries by reason %s%n", load.total(),
        load.failed(0, Long.MAX_VALUE), load.failures().isEmpty() ? "" : load.failures().toString(),
        load.slowestMicros() / 1000, retries.encode());
    }
  }

  private static void quota(List<String> frontArgs) throws Exception {
    try (NamespacedCluster c = NamespacedCluster.start(frontArgs, List.of())) {
      c.hosts.quota(c.workerA, 0.3);
      c.hosts.quota(c.workerB, 0.3);
      String url = "http://" + c.hosts.host(NamespacedCluster.FRONT).clientAddress() + ":" + c.front.httpPort()
        + "/fib/27?algorithm=recursive";
      // warm-up, then the measured minute, watching the front's view every 100 ms meanwhile
      run(List.of("wrk", "-t1", "-c16", "-d10s", url));
      List<String> seen = new ArrayList<>();
      Thread watch = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          try {
            for (String w : List.of(NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B)) {
              String state = c.state(w);
              if (!"alive".equals(state)) {
                seen.add(w + " " + state);
              }
            }
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            seen.add("watch: " + e);
          }
        }
      });
      watch.start();
      String wrk = run(List.of("wrk", "-t1", "-c16", "-d60s", "--latency", url));
      watch.interrupt();
      watch.join();
      JsonObject cluster = c.cluster();
      int suspicions = 0;
      for (Object o : cluster.getJsonArray("members")) {
        suspicions += ((JsonObject) o).getInteger("suspicions", 0);
      }
      long removals = c.front.log().lines().filter(l -> l.contains("cluster member left")).count();
      System.out.println("== quota: each worker in a 0.3-CPU cgroup (cpu.cfs_quota_us 30000 of 100000), wrk -t1 -c16"
        + " -d60s on /fib/27?algorithm=recursive" + (frontArgs.isEmpty() ? "" : ", front " + String.join(" ", frontArgs)));
      wrk.lines().filter(l -> l.contains("Requests/sec") || l.contains("requests in") || l.contains("99%")
        || l.contains("Non-2xx") || l.contains("Socket errors")).forEach(l -> System.out.println("wrk: " + l.strip()));
      System.out.printf("front: %d suspicions, %d members removed by Hazelcast, states other than alive seen: %s;"
        + " retries %s%n", suspicions, removals, seen.isEmpty() ? "none" : String.join(", ", new LinkedHashSet<>(seen)),
        cluster.getJsonObject("retries").encode());
    }
  }

  private static void window(String name, SteadyLoad load, long from, long to) {
    long[] w = load.window(from, to);
    double seconds = (to - from) / 1e9;
    System.out.printf("%s: %d requests (%.0f/s), %d failed, slowest %d ms%n", name, w[0], w[0] / seconds,
      load.failed(from, to), w[1] / 1000);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(Duration.ofMinutes(3).toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return out;
  }
}
