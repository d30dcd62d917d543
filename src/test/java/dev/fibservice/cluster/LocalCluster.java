package dev.fibservice.cluster;

import dev.fibservice.ServiceProcess;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A cluster on loopback shaped as {@code make cluster} makes it: the database as a process of its own ({@code db}),
 * one {@code http} front (HTTP, TCP, the TCP bridge, SockJS) and two {@code worker} members with their ops ports,
 * event-bus TLS when openssl is there, every port free and a cluster name of its own. For the soak, which watches
 * each process for an hour.
 */
public final class LocalCluster implements AutoCloseable {

  public final ServiceProcess db;
  public final ServiceProcess front;
  public final List<ServiceProcess> workers;
  private final List<ServiceProcess> all = new ArrayList<>();

  private LocalCluster(ServiceProcess db, ServiceProcess front, List<ServiceProcess> workers) {
    this.db = db;
    this.front = front;
    this.workers = workers;
    all.add(db);
    all.add(front);
    all.addAll(workers);
  }

  /**
   * Starts it under {@code work} (logs, certificates, the database's data), the members with {@code heap} of heap
   * each and {@code more} extra arguments; waits until the front has answered from both workers (bounded).
   */
  public static LocalCluster start(Path work, String heap, List<String> more) throws Exception {
    Files.createDirectories(work);
    List<ServiceProcess> started = new ArrayList<>();
    try {
      Path dbDir = work.resolve("mariadb").toAbsolutePath();
      ServiceProcess db = ServiceProcess.launch(ServiceProcess.jar(), work.resolve("db.log"), List.of("-Xmx128m"),
        Map.of(), List.of("db", "--port", "0", "--data-dir", dbDir.toString()));
      started.add(db);
      db.awaitReady(Duration.ofSeconds(120));
      String clusterName = "soak-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
      int seed = dev.fibservice.FreePorts.outsideEphemeralRange();
      List<String> common = new ArrayList<>(List.of("--cluster", "--cluster-host", "127.0.0.1", "--host", "127.0.0.1",
        "--set", "cluster.name=" + clusterName, "--set", "cluster.members=127.0.0.1:" + seed,
        "--set", "mysql.port=" + db.ports().getInteger("mysql"), "--set", "mysql.dataDir=" + dbDir,
        "--set", "eventLoops=2"));
      if (Certs.unavailable() == null) {
        common.addAll(Certs.make(work.resolve("certs")).flags());
      }
      common.addAll(more);
      List<String> frontArgs = new ArrayList<>(common);
      frontArgs.addAll(List.of("--role", "http", "--set", "cluster.hazelcastPort=" + seed, "--http-port", "0",
        "--tcp-port", "0", "--bridge-port", "0", "--instances", "2", "--set", "node.name=front"));
      ServiceProcess front = ServiceProcess.launch(ServiceProcess.jar(), work.resolve("front.log"), List.of(heap),
        Map.of(), frontArgs);
      started.add(front);
      front.awaitReady(Duration.ofSeconds(150));
      List<ServiceProcess> workers = new ArrayList<>();
      for (String name : List.of("worker-1", "worker-2")) {
        List<String> args = new ArrayList<>(common);
        args.addAll(List.of("--role", "worker", "--set", "cluster.hazelcastPort=0", "--set", "ops.enabled=true",
          "--set", "ops.port=0", "--set", "node.name=" + name));
        ServiceProcess w = ServiceProcess.launch(ServiceProcess.jar(), work.resolve(name + ".log"), List.of(heap),
          Map.of(), args);
        started.add(w);
        workers.add(w);
      }
      for (ServiceProcess w : workers) {
        w.awaitReady(Duration.ofSeconds(150));
      }
      LocalCluster cluster = new LocalCluster(db, front, workers);
      cluster.awaitBothWorkers();
      return cluster;
    } catch (Exception | Error e) {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
      throw e;
    }
  }

  /** The front's address for {@link MixedLoad}. */
  public MixedLoad.Target target() {
    return new MixedLoad.Target("127.0.0.1", front.httpPort(), front.tcpPort(), front.bridgePort());
  }

  /** Every process: the database, the front, the workers. */
  public List<ServiceProcess> processes() {
    return List.copyOf(all);
  }

  private void awaitBothWorkers() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.util.Set<String> seen = new java.util.HashSet<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    for (int n = 60_000; seen.size() < 2; n++) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the front did not reach both workers within 120 s (answered: " + seen + ")");
      }
      java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        "http://127.0.0.1:" + front.httpPort() + "/fib/" + n)).timeout(Duration.ofSeconds(30)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        String worker = new io.vertx.core.json.JsonObject(r.body()).getString("worker", "");
        seen.add(worker.contains("/") ? worker.substring(0, worker.indexOf('/')) : worker);
      } else {
        Thread.sleep(200);
      }
    }
  }

  /** The members first (SIGTERM, waited for), the database last. */
  @Override
  public void close() {
    for (int i = all.size() - 1; i >= 0; i--) {
      all.get(i).close();
    }
  }
}
