package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import dev.fibservice.FreePorts;
import dev.fibservice.ServiceProcess;
import dev.fibservice.api.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster with event-bus TLS on loopback, and members that must get nothing from it: an {@code http}
 * front and a worker with certificates from the cluster's CA (made at test time by src/main/scripts/cluster-certs.sh);
 * the same jar as a worker with a certificate from another CA; and, in this JVM, a member with no TLS at
 * all and one with another CA's certificate whose server asks no client certificate (it would read
 * whatever a member sent it). Both claim to compute (Hazelcast attribute fib.role=worker), count every
 * message they receive and answer "666". One cluster start-up serves every test, in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterTlsIT {

  private final String clusterName = "it-tls-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<ServiceProcess> processes = new ArrayList<>();
  private final List<RogueMember> rogues = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();
  private int hazelcastPort;
  private Certs cluster;
  private ServiceProcess front;
  private ServiceProcess worker;
  private ServiceProcess otherCa;
  private RogueMember plain;
  private RogueMember eavesdropper;

  @BeforeAll
  void startCluster() throws Exception {
    String why = Certs.unavailable();
    Assumptions.assumeTrue(why == null, "SKIPPED: ClusterTlsIT makes its certificates with openssl: " + why);
    Path dir = Path.of("target", "it-certs", clusterName).toAbsolutePath();
    cluster = Certs.make(dir.resolve("cluster"));
    Certs other = Certs.make(dir.resolve("other"));
    hazelcastPort = FreePorts.outsideEphemeralRange();
    // the front's cluster.host is auto (the cluster file's interface); the worker names it, as the issue did
    front = start("front", cluster, "--role", "http", "--http-port", "0", "--tcp-port", "0").awaitReady();
    worker = start("worker", cluster, "--role", "worker", "--cluster-host", "127.0.0.1");
    otherCa = start("other-ca", other, "--role", "worker", "--set", "node.name=rogue-other-ca");
    worker.awaitReady();
    otherCa.awaitReady();
    plain = RogueMember.start(clusterName, hazelcastPort, "rogue-plain", null);
    eavesdropper = RogueMember.start(clusterName, hazelcastPort, "rogue-eavesdropper", other);
    rogues.addAll(List.of(plain, eavesdropper));
    // every member is listed, only the worker answered the front's ping, and the front gave up on the others once
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(reachable().equals(Map.of(worker.nodeName(), true, "rogue-other-ca", false, "rogue-plain", false,
      "rogue-eavesdropper", false)) && silent("rogue-other-ca")
      && silent("rogue-plain") && silent("rogue-eavesdropper"))) {
      assertTrue(System.nanoTime() < deadline, "the front did not sort out its members: " + reachable()
        + "\n" + front.log());
      Thread.sleep(200);
    }
  }

  @AfterAll
  void stopCluster() {
    rogues.forEach(RogueMember::close);
    processes.forEach(ServiceProcess::close);
  }

  private ServiceProcess start(String name, Certs certs, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--cluster", "--set", "cluster.name=" + clusterName,
      "--set", "cluster.hazelcastPort=" + hazelcastPort, "--set", "cluster.members=127.0.0.1:" + hazelcastPort,
      "--set", "workerInstances=1", "--set", "eventLoops=2", "--set", "mysql.host=off"));
    all.addAll(certs.flags());
    all.addAll(List.of(args));
    ServiceProcess p = ServiceProcess.start("cluster-tls-" + name, Map.of(), all.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  @Test
  @Order(1)
  void everyClusterSocketListensOnTheClusterHostOnly() throws Exception {
    Assumptions.assumeTrue(Files.isReadable(Path.of("/proc", String.valueOf(front.pid()), "net", "tcp")),
      "SKIPPED: no /proc/PID/net/tcp here to read listening sockets from");
    Map<String, Integer> hazelcastPorts = new HashMap<>();
    for (Object m : info().getJsonArray("members")) {
      JsonObject member = (JsonObject) m;
      String address = member.getString("address");
      hazelcastPorts.put(member.getString("node"), Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
    }
    for (ServiceProcess p : List.of(front, worker, otherCa)) {
      List<InetSocketAddress> listening = listening(p.pid());
      String what = p.nodeName() + " listens on " + listening;
      // a worker member has no sockets but its cluster ones: Hazelcast's and the event bus's
      assertTrue(listening.size() >= 2, what);
      assertTrue(listening.stream().anyMatch(a -> a.getPort() == hazelcastPorts.get(p.nodeName())), what);
      for (InetSocketAddress a : listening) {
        assertEquals(InetAddress.getByName("127.0.0.1"), a.getAddress(), what);
      }
    }
  }

  @Test
  @Order(2)
  void onlyTheMemberWithTheClustersCertificateGetsRequests() throws Exception {
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < 160; i++) {
      // light ones, and heavy ones, which have no short attempt timeout: sent to a silent member, they would hang
      paths.add(i % 4 == 3 ? "/fib/" + (23 + i % 3) + "?algorithm=recursive" : "/fib/" + (i * 37 % 1000));
    }
    Map<String, Integer> failures = new ConcurrentHashMap<>();
    Set<String> nodes = ConcurrentHashMap.newKeySet();
    AtomicInteger answered = new AtomicInteger();
    List<Thread> clients = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    for (int t = 0; t < 4; t++) {
      int first = t;
      Thread client = new Thread(() -> {
        for (int i = first; i < paths.size() && System.nanoTime() < deadline; i += 4) {
          String path = paths.get(i);
          try {
            HttpResponse<String> r = get(path);
            JsonObject body = new JsonObject(r.body());
            if (r.statusCode() != 200) {
              failures.merge(path + " -> " + r.statusCode() + " " + r.body(), 1, Integer::sum);
            } else if (!fib(body.getInteger("n")).equals(body.getString("value"))) {
              failures.merge(path + " -> wrong value " + r.body(), 1, Integer::sum);
            } else {
              nodes.add(body.getString("worker").substring(0, body.getString("worker").indexOf('/')));
              answered.incrementAndGet();
            }
          } catch (Exception e) {
            failures.merge(path + " -> " + e, 1, Integer::sum);
          }
        }
      }, "tls-client-" + t);
      client.start();
      clients.add(client);
    }
    for (Thread client : clients) {
      client.join(120_000);
    }
    assertEquals(Map.of(), failures);
    assertEquals(paths.size(), answered.get(), "requests answered within 90 s");
    assertEquals(Set.of(worker.nodeName()), nodes, "every answer came from the worker with the cluster's certificate");
    assertEquals(0, plain.received.get(), "the member without TLS received a message");
    assertEquals(0, eavesdropper.received.get(), "the member with another CA's certificate received a message");
    assertFalse(reachable().get("rogue-other-ca"));
  }

  @Test
  @Order(3)
  void aMemberWithoutTheClustersCertificateGetsNoAnswerFromAWorker() throws Exception {
    String workerId = memberId(worker.nodeName());
    for (RogueMember rogue : rogues) {
      // what Vert.x 5.0.10 reports to the sender when the worker refuses its handshake: nothing until its timeout
      ReplyException failure = assertThrows(ReplyException.class, () -> rogue.vertx.eventBus()
        .request(Addresses.computeOn(workerId), new JsonObject().put("n", 10),
          new DeliveryOptions().setSendTimeout(3000)).await(), rogue.node + " got an answer from the worker");
      assertEquals(ReplyFailure.TIMEOUT, failure.failureType(), rogue.node + ": " + failure);
    }
    assertTrue(worker.isAlive());
  }

  @Test
  @Order(4)
  void theJavaClientWithTheClustersCertificateGetsAnAnswer() throws Exception {
    // the rogue jar registered fib.compute, which plain event-bus sends round-robin over: it leaves first
    otherCa.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (reachable().containsKey("rogue-other-ca")) {
      assertTrue(System.nanoTime() < deadline, "the rogue worker did not leave");
      Thread.sleep(100);
    }
    JavaClient.Run run = JavaClient.run(List.of("--cluster-name", clusterName, "--members", "127.0.0.1:" + hazelcastPort,
      "--tls-cert", cluster.cert().toString(), "--tls-key", cluster.key().toString(), "--tls-ca", cluster.ca().toString(),
      "50"));
    assertEquals(0, run.exit(), run.output());
    assertTrue(run.output().contains("\"value\":\"12586269025\""), run.output());
    assertTrue(run.output().contains("\"worker\":\"" + worker.nodeName() + "/"), run.output());
  }

  // --- helpers ---

  private HttpResponse<String> get(String path) throws Exception {
    // far above what a computation here takes; a request sent to a member that never answers waits longer
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.httpPort() + path))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject info() throws Exception {
    return new JsonObject(get("/info").body()).getJsonObject("cluster");
  }

  /** Computing members by node name, and whether the front sends them requests. */
  private Map<String, Boolean> reachable() throws Exception {
    Map<String, Boolean> result = new HashMap<>();
    JsonArray members = info().getJsonArray("members");
    for (Object m : members) {
      JsonObject member = (JsonObject) m;
      if (member.containsKey("reachable")) {
        result.put(member.getString("node"), member.getBoolean("reachable"));
      }
    }
    return result;
  }

  private boolean silent(String node) throws IOException {
    return front.log().lines().anyMatch(l -> l.contains("cluster member " + node + " [worker]")
      && l.contains("does not answer over the event bus"));
  }

  private String memberId(String node) throws Exception {
    for (Object m : info().getJsonArray("members")) {
      if (node.equals(((JsonObject) m).getString("node"))) {
        return ((JsonObject) m).getString("id");
      }
    }
    throw new AssertionError("no member " + node);
  }

  private static String fib(int n) {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int i = 0; i < n; i++) {
      BigInteger next = a.add(b);
      a = b;
      b = next;
    }
    return a.toString();
  }

  /** The TCP sockets a process listens on, from /proc: its socket inodes matched in net/tcp and net/tcp6. */
  static List<InetSocketAddress> listening(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    List<InetSocketAddress> result = new ArrayList<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path file = Path.of("/proc", String.valueOf(pid), "net", table);
      if (!Files.exists(file)) {
        continue;
      }
      List<String> lines = Files.readAllLines(file);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        // local_address is f[1] (hex address:port), st is f[3] (0A = LISTEN), inode is f[9]
        if (!"0A".equals(f[3]) || !inodes.contains(f[9])) {
          continue;
        }
        String[] local = f[1].split(":");
        byte[] address = new byte[local[0].length() / 2];
        // the kernel prints each 32-bit word of the address in host (little-endian) byte order
        for (int word = 0; word < address.length / 4; word++) {
          for (int b = 0; b < 4; b++) {
            address[word * 4 + b] = (byte) Integer.parseInt(local[0].substring(word * 8 + (3 - b) * 2, word * 8 + (4 - b) * 2), 16);
          }
        }
        result.add(new InetSocketAddress(InetAddress.getByAddress(address), Integer.parseInt(local[1], 16)));
      }
    }
    return result;
  }

  /**
   * A Vert.x member in this JVM that joins the cluster's Hazelcast as a worker, registers what a worker
   * registers for the fronts (its ping and compute addresses), counts every message and answers "666".
   * With certs, its event bus speaks TLS with them but trusts everyone and asks no client certificate.
   */
  private static final class RogueMember implements AutoCloseable {
    final String node;
    final Vertx vertx;
    final AtomicInteger received = new AtomicInteger();

    private RogueMember(String node, Vertx vertx) {
      this.node = node;
      this.vertx = vertx;
    }

    static RogueMember start(String clusterName, int seedPort, String node, Certs certs) throws Exception {
      Config hazelcast = ConfigUtil.loadConfig().setClusterName(clusterName);
      hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
      hazelcast.setProperty("hazelcast.logging.type", "slf4j");
      hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
      hazelcast.setProperty("hazelcast.socket.bind.any", "false");
      hazelcast.getNetworkConfig().setPort(seedPort + 1).setPortAutoIncrement(true).getInterfaces().setEnabled(true)
        .addInterface("127.0.0.1");
      var join = hazelcast.getNetworkConfig().getJoin();
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1:" + seedPort));
      hazelcast.getMemberAttributeConfig().setAttribute(ClusterView.ROLE_ATTRIBUTE, "worker")
        .setAttribute(ClusterView.NODE_ATTRIBUTE, node);
      VertxOptions options = new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2);
      EventBusOptions bus = options.getEventBusOptions().setHost("127.0.0.1");
      if (certs != null) {
        bus.setSsl(true).setClientAuth(ClientAuth.NONE)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certs.cert().toString()).setKeyPath(certs.key().toString()));
      }
      HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast);
      Vertx vertx = Vertx.builder().with(options).withClusterManager(manager).buildClustered().await(90, TimeUnit.SECONDS);
      RogueMember rogue = new RogueMember(node, vertx);
      String id = manager.getNodeId();
      JsonObject forged = new JsonObject().put("n", 0).put("algorithm", "doubling").put("value", "666").put("digits", 3)
        .put("computeMicros", 1).put("worker", node + "/light-1");
      vertx.eventBus().consumer(Addresses.pingOn(id), m -> {
        rogue.received.incrementAndGet();
        m.reply(new JsonObject().put("member", id));
      }).completion().await(30, TimeUnit.SECONDS);
      vertx.eventBus().consumer(Addresses.computeOn(id), m -> {
        rogue.received.incrementAndGet();
        m.reply(forged);
      }).completion().await(30, TimeUnit.SECONDS);
      return rogue;
    }

    @Override
    public void close() {
      try {
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        // the JVM ends with the test run anyway
      }
    }
  }
}
