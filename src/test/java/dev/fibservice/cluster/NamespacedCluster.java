package dev.fibservice.cluster;

import io.vertx.core.json.JsonArray;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The fat jar as a cluster across three hosts ({@link Hosts}): one {@code http} member and two {@code worker}
 * members, each in its own network namespace, started with the documented flags only ({@code --cluster --role
 * ROLE --cluster-host ADDR --set cluster.members=A,B,C --set cluster.name=N}), with event-bus TLS from
 * src/main/scripts/cluster-certs.sh for those addresses. Clients reach the front over its client link.
 */
final class NamespacedCluster implements AutoCloseable {

  static final String FRONT = "front";
  static final String WORKER_A = "wa";
  static final String WORKER_B = "wb";

  final Hosts hosts;
  final Hosts.Member front;
  final Hosts.Member workerA;
  final Hosts.Member workerB;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  private NamespacedCluster(Hosts hosts, Hosts.Member front, Hosts.Member workerA, Hosts.Member workerB) {
    this.hosts = hosts;
    this.front = front;
    this.workerA = workerA;
    this.workerB = workerB;
  }

  /** Why it cannot run here, or null. */
  static String unavailable() {
    String why = Hosts.unavailable();
    return why != null ? why : Certs.unavailable();
  }

  /** Starts the three members and waits until the front sends requests to both workers (bounded). */
  static NamespacedCluster start(List<String> frontArgs, List<String> workerArgs) throws Exception {
    Hosts hosts = Hosts.create(List.of(FRONT, WORKER_A, WORKER_B));
    try {
      Path certDir = Files.createTempDirectory(Path.of("target"), "hosts-certs-");
      List<String> addresses = hosts.hosts().stream().map(Hosts.Host::address).toList();
      Map<String, Certs> certs = Certs.make(certDir, addresses.toArray(String[]::new));
      String clusterName = "hosts-" + ProcessHandle.current().pid();
      Hosts.Host f = hosts.host(FRONT);
      List<String> fa = new ArrayList<>(common(hosts, f, certs, clusterName, "http"));
      fa.addAll(List.of("--host", f.clientAddress(), "--http-port", "0", "--tcp-port", "0", "--instances", "2"));
      fa.addAll(frontArgs);
      Hosts.Member front = hosts.start(f, FRONT, fa);
      List<Hosts.Member> workers = new ArrayList<>();
      for (String name : List.of(WORKER_A, WORKER_B)) {
        Hosts.Host h = hosts.host(name);
        List<String> wa = new ArrayList<>(common(hosts, h, certs, clusterName, "worker"));
        wa.addAll(List.of("--set", "workerInstances=2"));
        wa.addAll(workerArgs);
        workers.add(hosts.start(h, name, wa));
      }
      front.awaitReady();
      for (Hosts.Member w : workers) {
        w.awaitReady();
      }
      NamespacedCluster cluster = new NamespacedCluster(hosts, front, workers.get(0), workers.get(1));
      cluster.await("both workers alive on the front", 120,
        c -> "alive".equals(c.state(WORKER_A)) && "alive".equals(c.state(WORKER_B)));
      return cluster;
    } catch (Exception | Error e) {
      hosts.close();
      throw e;
    }
  }

  private static List<String> common(Hosts hosts, Hosts.Host host, Map<String, Certs> certs, String clusterName,
                                     String role) {
    // each member is alone in its namespace, so Hazelcast's own port (5701) is free there
    List<String> args = new ArrayList<>(List.of("--cluster", "--role", role, "--cluster-host", host.address(),
      "--set", "cluster.members=" + hosts.memberList(), "--set", "cluster.name=" + clusterName,
      "--set", "node.name=" + host.name(), "--set", "mysql.host=off", "--set", "eventLoops=2"));
    args.addAll(certs.get(host.address()).flags());
    return args;
  }

  /** A steady light and heavy stream through the front (see {@link SteadyLoad}). */
  SteadyLoad load(int threads, long maxSeconds) {
    return new SteadyLoad(hosts.host(FRONT).clientAddress(), front.httpPort(), threads, maxSeconds, 2_000_000,
      Duration.ofSeconds(30));
  }

  /** The front's /info "cluster" object. */
  JsonObject cluster() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + hosts.host(FRONT).clientAddress()
      + ":" + front.httpPort() + "/info")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(r.body()).getJsonObject("cluster");
  }

  /** The front's /metrics text. */
  String metrics() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + hosts.host(FRONT).clientAddress() + ":"
      + front.httpPort() + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** How the front sees the worker of this node name: alive, suspected, removed, ... (null: unknown). */
  String state(String node) throws Exception {
    JsonObject member = member(node);
    return member == null ? null : member.getString("state");
  }

  /** The front's /info entry of this worker (a live member, or one removed lately). */
  JsonObject member(String node) throws Exception {
    JsonObject cluster = cluster();
    for (Object o : cluster.getJsonArray("members")) {
      JsonObject m = (JsonObject) o;
      if (node.equals(m.getString("node"))) {
        return m;
      }
    }
    JsonArray removed = cluster.getJsonArray("removed", new JsonArray());
    for (Object o : removed) {
      JsonObject m = (JsonObject) o;
      if (m.getString("name", "").startsWith(node + " [")) {
        return m;
      }
    }
    return null;
  }

  /** Polls the front until the condition holds; fails after {@code seconds}. Returns when it held (nanoTime). */
  long await(String what, long seconds, Check check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      if (check.test(this)) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what + "; the front's view: " + cluster().encodePrettily());
      }
      Thread.sleep(50);
    }
  }

  /** A condition on the cluster, as the front shows it. */
  interface Check {
    boolean test(NamespacedCluster c) throws Exception;
  }

  @Override
  public void close() {
    hosts.close();
  }

  /** For failure messages: the end of each member's log. */
  String logs() {
    StringBuilder b = new StringBuilder();
    for (Hosts.Member m : List.of(front, workerA, workerB)) {
      try {
        String log = m.log();
        b.append("\n--- ").append(m.name).append(" ---\n").append(log, Math.max(0, log.length() - 4000), log.length());
      } catch (IOException e) {
        b.append("\n--- ").append(m.name).append(": ").append(e);
      }
    }
    return b.toString();
  }
}
