package dev.fibservice.cluster;

import dev.fibservice.ServiceProcess;
import dev.fibservice.TestConf;
import dev.fibservice.api.Version;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A rolling upgrade under load, short form (the long one, with faults, is the bench's {@code upgrade} scenario): the
 * cluster of {@code make cluster LB=nginx FRONTS=2} started from the previous release's jar (built from RELEASES as
 * {@code make release-jar} builds it), every member replaced by this build with {@code cluster.sh upgrade} (what
 * {@code make cluster-upgrade} runs), then every member rolled back the same way, while a light mixed load runs through
 * nginx: light and heavy /fib, /db, people writes, jobs, TCP line, TCP bridge and SockJS clients. No HTTP request
 * fails, every job submitted is DONE with the right digits, every person written is there, and the stream clients'
 * requests are all answered (some after a clear error or a closed connection, sent again: counted, and printed).
 */
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class RollingUpgradeIT {

  /** Deadlines the members are given, for a loaded 2-core machine; the load holds each request to its own. */
  static final long FIB_TIMEOUT_MS = 60_000;
  static final long QUERY_TIMEOUT_MS = 30_000;

  /**
   * The members' settings for both releases (the keys are 0.2.0's): fast starts, deadlines, a wait for a pooled
   * database connection of 10 s rather than 1 (at a load average of 45 here, one /db in 2,600 waited longer), jobs
   * not left waiting for a lease.
   */
  static String memberArgs() {
    return "--conf " + TestConf.CONFIG + " --set fib.warmup=false --set workerInstances=1 --set eventLoops=2"
      + " --set fib.timeoutMs=" + FIB_TIMEOUT_MS + " --set mysql.queryTimeoutMs=" + QUERY_TIMEOUT_MS
      + " --set mysql.connectTimeoutMs=10000 --set jobs.leaseMs=600000";
  }

  @Test
  void everyMemberReplacedOneByOneForwardAndBackUnderLoadFailsNoRequestAndLosesNoJob() throws Exception {
    assumeTrue(UpgradeCluster.nginxInstalled(), "nginx (and its stream module) is not installed: skipping the"
      + " rolling upgrade through it (make test-tools, as root, installs them)");
    Path work = Path.of("target", "it-upgrade").toAbsolutePath();
    long t0 = System.nanoTime();
    String tag = UpgradeCluster.previousRelease();
    Path previous = UpgradeCluster.previousJar(tag, work.resolve("release-jar.log"));
    Path current = ServiceProcess.jar();
    System.out.printf("upgrade: %s's jar ready after %d s%n", tag, secondsSince(t0));
    try (UpgradeCluster cluster = new UpgradeCluster(work.resolve("run"), work.resolve("mariadb"), memberArgs())) {
      UpgradeCluster.Result started = cluster.start(previous);
      assertEquals(0, started.exit(), started.output());
      System.out.printf("upgrade: cluster of %s up after %d s%n", tag, secondsSince(t0));
      String from = tag.substring(1);
      String to = Version.current();
      assertEquals(Map.of(from, 4L), countVersions(cluster), "every member starts as " + tag);

      UpgradeLoad.Shape shape = new UpgradeLoad.Shape(2, 50, 32, 200, 200, 200, 500, 2, 50, FIB_TIMEOUT_MS,
        QUERY_TIMEOUT_MS);
      try (UpgradeLoad load = new UpgradeLoad(shape, cluster.port("HTTP_PORT"), cluster.port("TCP_PORT"),
        cluster.port("BRIDGE_PORT"))) {
        load.start();
        Thread.sleep(2000);
        load.phase("during");

        UpgradeCluster.Result up = cluster.upgrade(current);
        System.out.printf("upgrade: forward done after %d s%n", secondsSince(t0));
        Map<String, Long> afterUp = countVersions(cluster);
        UpgradeCluster.Result back = cluster.upgrade(previous);
        System.out.printf("upgrade: rollback done after %d s%n", secondsSince(t0));
        Map<String, Long> afterBack = countVersions(cluster);
        load.phase("after");
        Thread.sleep(2000);
        load.close();

        int again = load.checkJobs(Duration.ofSeconds(90));
        load.checkPeople();
        System.out.printf("upgrade: %s -> %s -> %s in %d s: %s; %d jobs (%d run again after a hand-back), %d people"
            + " written; failures: %s%n", from, to, from, secondsSince(t0), load.counts(), load.jobsSubmitted(), again,
          load.peopleWritten(), load.failures());
        // the load's verdict first: what a broken roll costs the clients
        assertEquals(0, load.failed(), "failed requests through nginx: " + load.failures());
        assertTrue(load.failures().isEmpty(), "lost or wrong: " + load.failures());
        assertTrue(load.jobsSubmitted() > 0 && load.peopleWritten() > 0 && load.answered("heavy") > 0
          && load.answered("sockjs") > 0 && load.answered("bridge") > 0 && load.answered("tcp-0") > 0,
          "the load ran: " + load.counts());
        assertEquals(0, up.exit(), up.output());
        assertTrue(up.output().contains("fronts-first"), "up, the fronts first:\n" + up.output());
        assertEquals(Map.of(to, 4L), afterUp, "every member runs " + to + ":\n" + up.output());
        assertEquals(0, back.exit(), back.output());
        assertTrue(back.output().contains("workers-first"), "back, the workers first:\n" + back.output());
        assertEquals(Map.of(from, 4L), afterBack, "every member runs " + from + " again:\n" + back.output());
      }
    }
  }

  /** How many members run each release, as a front sees them (what went wrong, when it cannot tell). */
  private static Map<String, Long> countVersions(UpgradeCluster cluster) {
    Map<String, String> versions;
    try {
      versions = cluster.versions();
    } catch (Exception e) {
      return Map.of("no answer from /info: " + e, 0L);
    }
    Map<String, Long> counts = new java.util.TreeMap<>();
    versions.values().forEach(v -> counts.merge(v, 1L, Long::sum));
    return counts;
  }

  private static long secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000_000L;
  }
}
