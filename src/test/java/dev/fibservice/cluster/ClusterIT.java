package dev.fibservice.cluster;

import dev.fibservice.ServiceProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fat jar as a real cluster on loopback: one {@code http} member (with the event-bus bridge) and two
 * {@code worker} members, each its own JVM. One cluster start-up serves every test, in order; the last
 * ones stop and kill workers. The cluster name and Hazelcast port are chosen at run time, so a leftover
 * or parallel cluster never joins this one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterIT {

  private static final String F50 = "12586269025";

  private final String clusterName = "it-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<ServiceProcess> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();
  private int hazelcastPort;
  private ServiceProcess front;
  private ServiceProcess workerA;
  private ServiceProcess workerB;

  @BeforeAll
  void startCluster() throws Exception {
    try (ServerSocket probe = new ServerSocket(0)) {
      hazelcastPort = probe.getLocalPort();
    }
    // the front is the seed every other member joins through
    front = start("front", "--role", "http", "--http-port", "0", "--tcp-port", "0", "--bridge-port", "0",
      "--instances", "2", "--set", "fib.attemptTimeoutMs=500").awaitReady();
    workerA = start("worker-a", "--role", "worker");
    workerB = start("worker-b", "--role", "worker");
    workerA.awaitReady();
    workerB.awaitReady();
    awaitComputeMembers(2);
  }

  @AfterAll
  void stopCluster() {
    processes.forEach(ServiceProcess::close);
  }

  private ServiceProcess start(String name, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--cluster", "--set", "cluster.name=" + clusterName,
      "--set", "cluster.hazelcastPort=" + hazelcastPort, "--set", "cluster.members=127.0.0.1:" + hazelcastPort,
      "--set", "workerInstances=1", "--set", "eventLoops=2", "--set", "mysql.host=off"));
    all.addAll(List.of(args));
    ServiceProcess p = ServiceProcess.start("cluster-" + name, Map.of(), all.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  @Test
  @Order(1)
  void infoShowsTheMembersAndTheirRoles() throws Exception {
    JsonObject cluster = new JsonObject(get("/info").body()).getJsonObject("cluster");
    assertEquals(clusterName, cluster.getString("name"));
    assertEquals("http", cluster.getString("role"));
    JsonArray members = cluster.getJsonArray("members");
    assertEquals(3, members.size(), members.encodePrettily());
    List<String> roles = new ArrayList<>();
    members.forEach(m -> roles.add(((JsonObject) m).getString("role")));
    roles.sort(null);
    assertEquals(List.of("http", "worker", "worker"), roles);
    assertTrue(front.log().contains("cluster " + clusterName + ": joined in"), "start-up logs the join");
  }

  @Test
  @Order(2)
  void requestsAreServedByEveryWorkerMember() throws Exception {
    Set<String> nodes = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = get("/fib/" + (50 + i));
      assertEquals(200, r.statusCode(), r.body());
      nodes.add(node(new JsonObject(r.body()).getString("worker")));
    }
    assertEquals(Set.of(workerA.nodeName(), workerB.nodeName()), nodes);
    // the front counts what each worker member computed for it (its page's workers panel, its fib.stats pushes)
    JsonObject stats = new JsonObject(get("/stats").body()).getJsonObject("cluster");
    assertEquals(3, stats.getJsonArray("members").size(), stats.encode());
    Map<String, Long> byMember = new HashMap<>();
    stats.getJsonArray("workers").forEach(w -> byMember.merge(((JsonObject) w).getString("member"),
      ((JsonObject) w).getLong("computations"), Long::sum));
    assertEquals(Set.of(workerA.nodeName(), workerB.nodeName()), byMember.keySet(), stats.encode());
    assertTrue(byMember.values().stream().mapToLong(Long::longValue).sum() >= 20, stats.encode());
  }

  @Test
  @Order(2)
  void theSameHeavyNGoesToTheSameWorkerMember() throws Exception {
    // over HTTP the front keeps what it served; over the bridge (no cache on its side) each request reaches a member
    Map<Integer, String> firstBy = new HashMap<>();
    for (int n = 60_000; n < 60_020; n++) {
      HttpResponse<String> r = get("/fib/" + n);
      assertEquals(200, r.statusCode(), r.body());
      firstBy.put(n, node(new JsonObject(r.body()).getString("worker")));
    }
    assertEquals(Set.of(workerA.nodeName(), workerB.nodeName()), new HashSet<>(firstBy.values()),
      "20 heavy n spread over both members (rendezvous hashing on the member ids): " + firstBy);
    // in the other order: members taken in turns (no affinity) would now give every n the other member
    try (Socket s = bridge()) {
      for (int n = 60_019; n >= 60_000; n--) {
        JsonObject reply = exchange(s, new JsonObject().put("type", "send").put("address", "fib.compute")
          .put("replyAddress", "r" + n).put("body", new JsonObject().put("n", n)));
        assertEquals("message", reply.getString("type"), reply.encode());
        assertEquals(firstBy.get(n), node(reply.getJsonObject("body").getString("worker")),
          "F(" + n + ") goes where it went before, whose cache has it");
      }
    }
  }

  @Test
  @Order(3)
  void aHeavyComputationOutlivesTheShortAttemptTimeout() throws Exception {
    // fib.attemptTimeoutMs is 500 ms on the front; this takes longer, and must neither fail nor run twice
    HttpResponse<String> r = get("/fib/39?algorithm=recursive");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("63245986", new JsonObject(r.body()).getString("value"));
  }

  @Test
  @Order(4)
  void theBridgeAnswersThePythonClient() throws Exception {
    Assumptions.assumeTrue(onPath("python3"), "SKIPPED: python3 is not on the PATH, so the Python client was not run");
    Process py = new ProcessBuilder("python3", "examples/python/fib_client.py", "--port",
      String.valueOf(front.bridgePort()), "50").redirectErrorStream(true).start();
    assertTrue(py.waitFor(60, TimeUnit.SECONDS), "python client did not finish");
    String out = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, py.exitValue(), out);
    assertEquals(F50, out);
  }

  @Test
  @Order(5)
  void theBridgeDeniesOtherAddressesAndSurvivesGarbage() throws Exception {
    try (Socket s = bridge()) {
      JsonObject denied = exchange(s, new JsonObject().put("type", "send").put("address", "fib.worker.heavy")
        .put("replyAddress", "r0").put("body", new JsonObject().put("n", 5)));
      assertEquals(new JsonObject().put("type", "err").put("message", "access_denied"), denied);
      JsonObject reply = exchange(s, new JsonObject().put("type", "send").put("address", "fib.compute")
        .put("replyAddress", "r1").put("body", new JsonObject().put("n", 50)));
      assertEquals("message", reply.getString("type"), reply.encode());
      assertEquals("r1", reply.getString("address"));
      assertEquals(F50, reply.getJsonObject("body").getString("value"));
      JsonObject bad = exchange(s, new JsonObject().put("type", "send").put("address", "fib.compute")
        .put("replyAddress", "r2").put("body", new JsonObject().put("n", -1)));
      assertEquals("err", bad.getString("type"));
      assertEquals(400, bad.getInteger("failureCode"), bad.encode());
    }
    try (Socket s = bridge()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(9);
      out.write("not json!".getBytes(StandardCharsets.UTF_8));
      JsonObject error = read(s);
      assertEquals("err", error.getString("type"));
      assertTrue(error.getString("message").startsWith("malformed_frame"), error.encode());
      assertEquals(-1, s.getInputStream().read(), "the connection is closed after a malformed frame");
    }
    try (Socket s = bridge()) {
      new DataOutputStream(s.getOutputStream()).writeInt(Integer.MAX_VALUE);
      assertTrue(read(s).getString("message").startsWith("frame_too_large"));
      assertEquals(-1, s.getInputStream().read(), "the connection is closed after an oversized frame");
    }
    try (Socket s = bridge()) {
      assertEquals(new JsonObject().put("type", "pong"), exchange(s, new JsonObject().put("type", "ping")),
        "the bridge still serves new connections");
    }
  }

  @Test
  @Order(6)
  void theJavaExampleClientJoinsAndGetsAnAnswer() throws Exception {
    JavaClient.Run run = JavaClient.run(List.of("--cluster-name", clusterName, "--members", "127.0.0.1:" + hazelcastPort, "50"));
    assertEquals(0, run.exit(), run.output());
    assertTrue(run.output().contains("\"value\":\"" + F50 + "\""), run.output());
    awaitComputeMembers(2); // the client has left again
  }

  @Test
  @Order(7)
  void aWorkerStoppedBySigtermFailsNoRequest() throws Exception {
    try (Load load = new Load()) {
      load.awaitRequests(50);
      workerA.terminate();
      assertEquals(0, workerA.awaitExit(60), workerA.log());
      Thread.sleep(1000);
      load.awaitRequests(load.total() + 50);
      load.stop();
      assertEquals(Map.of(), load.failures(), "failed requests while a worker left gracefully");
    }
    assertTrue(workerA.log().contains("leaving the cluster"), workerA.log());
    // back to two workers for the next test
    workerA = start("worker-c", "--role", "worker").awaitReady();
    awaitComputeMembers(2);
  }

  @Test
  @Order(8)
  void aWorkerKilledMidStreamFailsNoRequest() throws Exception {
    try (Load load = new Load()) {
      load.awaitRequests(50);
      // two heavy computations: round robin puts one on each worker, so one is running on the victim
      List<CompletableFuture<HttpResponse<String>>> heavy = List.of(getAsync("/fib/37?algorithm=recursive"),
        getAsync("/fib/37?algorithm=recursive"));
      Thread.sleep(100);
      workerB.kill();
      Thread.sleep(2000); // the stream goes on past the member's removal (~0.3 s on loopback)
      load.awaitRequests(load.total() + 100);
      load.stop();
      assertEquals(Map.of(), load.failures(), "failed requests after kill -9 of a worker");
      for (CompletableFuture<HttpResponse<String>> f : heavy) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("24157817", new JsonObject(r.body()).getString("value"));
      }
      assertTrue(load.nodes().contains(workerA.nodeName()));
    }
  }

  @Test
  @Order(9)
  void withNoWorkerLeftTheAnswerIs503AtOnce() throws Exception {
    workerA.kill();
    workerA.awaitExit(30);
    HttpResponse<String> r;
    // each request is bounded by the client's timeout: a hang fails the test instead of answering late
    do {
      r = get("/fib/30");
    } while (r.statusCode() == 200);
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
    assertTrue(new JsonObject(r.body()).getString("error").contains("no Fibonacci worker"), r.body());
    for (int i = 0; i < 5; i++) {
      assertEquals(503, get("/fib/" + (40 + i)).statusCode());
    }
    assertTrue(front.isAlive());
  }

  // --- helpers ---

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(request(path), HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> getAsync(String path) {
    return http.sendAsync(request(path), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.httpPort() + path))
      .timeout(Duration.ofSeconds(10)).build();
  }

  private static String node(String worker) {
    return worker.substring(0, worker.indexOf('/'));
  }

  /** Waits (bounded) until the front sees this many computing members. */
  private void awaitComputeMembers(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int seen = -1;
    while (System.nanoTime() < deadline) {
      JsonArray members = new JsonObject(get("/info").body()).getJsonObject("cluster").getJsonArray("members");
      // a worker gets requests once it answered the front's ping over the event bus
      seen = (int) members.stream().filter(m -> "worker".equals(((JsonObject) m).getString("role"))
        && ((JsonObject) m).getBoolean("reachable", false)).count();
      if (seen == count && members.size() == count + 1) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the front sees " + seen + " worker members, expected " + count);
  }

  private Socket bridge() throws IOException {
    Socket s = new Socket("127.0.0.1", front.bridgePort());
    s.setSoTimeout(30_000);
    return s;
  }

  private static JsonObject exchange(Socket s, JsonObject frame) throws IOException {
    byte[] data = frame.encode().getBytes(StandardCharsets.UTF_8);
    DataOutputStream out = new DataOutputStream(s.getOutputStream());
    out.writeInt(data.length);
    out.write(data);
    out.flush();
    return read(s);
  }

  private static JsonObject read(Socket s) throws IOException {
    DataInputStream in = new DataInputStream(s.getInputStream());
    byte[] data = new byte[in.readInt()];
    in.readFully(data);
    return new JsonObject(new String(data, StandardCharsets.UTF_8));
  }

  private static boolean onPath(String command) {
    try {
      Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** A steady stream of light requests from four client threads, counting every outcome. */
  private final class Load implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final Set<String> nodes = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicInteger total = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();

    Load() {
      for (int t = 0; t < 4; t++) {
        int seed = t;
        Thread thread = new Thread(() -> {
          int i = seed;
          while (running.get()) {
            i++;
            try {
              HttpResponse<String> r = get("/fib/" + (100 + i % 900));
              if (r.statusCode() == 200) {
                nodes.add(node(new JsonObject(r.body()).getString("worker")));
              } else {
                failures.merge(r.statusCode() + " " + r.body(), 1, Integer::sum);
              }
            } catch (Exception e) {
              failures.merge(e.toString(), 1, Integer::sum);
            }
            total.incrementAndGet();
          }
        }, "load-" + t);
        thread.start();
        threads.add(thread);
      }
    }

    int total() {
      return total.get();
    }

    void awaitRequests(int count) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (total.get() < count && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    }

    Map<String, Integer> failures() {
      return Map.copyOf(failures);
    }

    Set<String> nodes() {
      return nodes;
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(30_000);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }
}
