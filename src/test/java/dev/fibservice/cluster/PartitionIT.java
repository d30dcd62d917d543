package dev.fibservice.cluster;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster across three hosts (network namespaces behind a bridge: {@link NamespacedCluster}) under a steady
 * stream of light and heavy requests through the front, while one worker is cut off by nft drop rules, healed,
 * stopped with SIGSTOP, resumed, and killed with SIGKILL. Outcome checks only, with generous bounds: no request
 * fails; once the front suspects the cut-off worker, the other one does all the work; after the heal the worker
 * serves again. One cluster start-up serves every check, in order. Needs root, iproute2 and nftables.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PartitionIT {

  private NamespacedCluster cluster;
  private SteadyLoad load;

  @BeforeAll
  void startCluster() throws Exception {
    String why = NamespacedCluster.unavailable();
    Assumptions.assumeTrue(why == null, "SKIPPED: the cluster across network namespaces cannot run here: " + why);
    cluster = NamespacedCluster.start(List.of(), List.of());
    load = cluster.load(4, 600);
    assertTrue(load.awaitMore(100, 60), "the load does not get going" + cluster.logs());
  }

  @AfterAll
  void stopCluster() throws Exception {
    try {
      if (load != null) {
        load.stop();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  @Order(1)
  void aCutOffWorkerCostsNoRequestGetsNoWorkOnceDetectedAndServesAgainAfterTheHeal() throws Exception {
    Hosts.Host b = cluster.hosts.host(NamespacedCluster.WORKER_B);
    long cut = System.nanoTime();
    cluster.hosts.cut(b);
    // the front's own evidence (its pings) takes the worker out long before Hazelcast removes it
    long detected = cluster.await("the front suspects the cut-off worker", 60,
      c -> "suspected".equals(c.state(NamespacedCluster.WORKER_B)));
    cluster.await("the front took back what it had sent to the cut-off worker", 30,
      c -> c.member(NamespacedCluster.WORKER_B).getInteger("inFlight") == 0);
    // Hazelcast too removes it (hazelcast.max.no.heartbeat.seconds), so the heal goes through a merge
    long removedSeen = cluster.await("Hazelcast removes the cut-off worker", 90,
      c -> "removed".equals(c.state(NamespacedCluster.WORKER_B)));
    long removed = removedSeen
      - TimeUnit.MILLISECONDS.toNanos(cluster.member(NamespacedCluster.WORKER_B).getLong("stateForMs"));
    assertTrue(load.awaitMore(200, 60), "the load stalled during the partition" + cluster.logs());
    long healed = System.nanoTime();
    cluster.hosts.heal(b);
    cluster.await("the healed worker is alive again on the front", 120,
      c -> "alive".equals(c.state(NamespacedCluster.WORKER_B)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (load.firstAnswerBy(NamespacedCluster.WORKER_B, healed) < 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(Map.of(), load.failures(), "failed requests around a partition");
    assertEquals(0, load.answeredBy(NamespacedCluster.WORKER_B, detected, healed),
      "the cut-off worker answered nothing once detected");
    assertTrue(load.answeredBy(NamespacedCluster.WORKER_A, detected, removed) > 0,
      "while the front only suspected the cut-off worker, before Hazelcast removed it, the other worker served");
    assertTrue(load.firstAnswerBy(NamespacedCluster.WORKER_B, healed) > 0,
      "the healed worker serves again" + cluster.logs());
    assertTrue(cluster.metrics().contains("fib_cluster_members{state=\"alive\"} 2.0"), cluster.metrics());
    System.out.printf("partition: %d requests so far, slowest %d ms; suspected %d ms after the cut; served again %d ms"
        + " after the heal%n", load.total(), load.slowestMicros() / 1000, TimeUnit.NANOSECONDS.toMillis(detected - cut),
      TimeUnit.NANOSECONDS.toMillis(load.firstAnswerBy(NamespacedCluster.WORKER_B, healed) - healed));
  }

  @Test
  @Order(2)
  void aStoppedWorkerCostsNoRequestAndServesAgainWhenResumed() throws Exception {
    cluster.workerB.pause();
    long stopped = System.nanoTime();
    try {
      cluster.await("the front suspects the stopped worker", 60,
        c -> "suspected".equals(c.state(NamespacedCluster.WORKER_B)));
      assertTrue(load.awaitMore(200, 60), "the load stalled while a worker was stopped" + cluster.logs());
    } finally {
      cluster.workerB.resume();
    }
    long resumed = System.nanoTime();
    cluster.await("the resumed worker is alive again", 120, c -> "alive".equals(c.state(NamespacedCluster.WORKER_B)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (load.firstAnswerBy(NamespacedCluster.WORKER_B, resumed) < 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(Map.of(), load.failures(), "failed requests around a SIGSTOP");
    assertTrue(load.answeredBy(NamespacedCluster.WORKER_A, stopped, resumed) > 0, "the other worker did the work");
    assertTrue(load.firstAnswerBy(NamespacedCluster.WORKER_B, resumed) > 0, "the resumed worker serves again");
  }

  @Test
  @Order(3)
  void aKilledWorkerCostsNoRequest() throws Exception {
    assertTrue(load.awaitMore(100, 60));
    cluster.workerB.kill();
    long killed = System.nanoTime();
    cluster.await("the front sees the killed worker gone", 60,
      c -> List.of("suspected", "removed").contains(c.state(NamespacedCluster.WORKER_B)));
    assertTrue(load.awaitMore(200, 60), "the load stalled after a kill -9" + cluster.logs());
    load.stop();
    assertEquals(Map.of(), load.failures(), "failed requests around a kill -9");
    assertTrue(load.answeredBy(NamespacedCluster.WORKER_A, killed, System.nanoTime()) > 0);
    System.out.printf("all: %d requests, none failed, slowest %d ms%n", load.total(), load.slowestMicros() / 1000);
  }
}
