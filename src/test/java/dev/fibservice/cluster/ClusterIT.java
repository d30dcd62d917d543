package dev.fibservice.cluster;

import dev.fibservice.Eventually;
import dev.fibservice.FreePorts;
import dev.fibservice.ServiceProcess;
import dev.fibservice.api.Version;
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
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import dev.fibservice.ops.RuleMetrics;

/**
 * The fat jar as a real cluster on loopback, shaped as {@code make cluster} makes it: the database as a process of its
 * own ({@code db}), two {@code http} members (the first with the event-bus bridge) and two {@code worker} members, each
 * its own JVM, every member started with the documented commands plus free ports (mysql.host "embedded": the
 * cluster's database process), tracing into a real Zipkin server (another JVM). One cluster start-up serves every test, in order; the last ones stop and kill workers.
 * The cluster name and Hazelcast port are chosen at run time, so a leftover or parallel cluster never joins this one.
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
  /** The cluster's database: its data under target/, kept between runs (its binaries unpack once). */
  private final Path dbDir = Path.of("target", "it-cluster-db", "mariadb").toAbsolutePath();
  private int hazelcastPort;
  /** Where a new member joins: the first front's Hazelcast port (it is the seed), until that front is replaced. */
  private String joinList;
  private ServiceProcess db;
  private ServiceProcess front;
  private ServiceProcess frontB;
  private ServiceProcess workerA;
  private ServiceProcess workerB;
  private Zipkin zipkin;
  private String zipkinEndpoint;
  /** The heavy requests of the kill test, by the trace id each was sent with. */
  private final Map<String, HttpResponse<String>> killedMidCall = new HashMap<>();

  @BeforeAll
  void startCluster() throws Exception {
    hazelcastPort = FreePorts.outsideEphemeralRange();
    // the members trace into Zipkin, which starts once they are up (it costs a JVM's start, its own CPU): the spans
    // of the first tests are refused meanwhile (and counted), and no test reads them
    // a port that stays free until then: none an outgoing connection of the cluster can be given
    int zipkinPort = FreePorts.outsideEphemeralRange();
    zipkinEndpoint = Zipkin.endpoint(zipkinPort);
    joinList = "127.0.0.1:" + hazelcastPort;
    // first the database, which every member reaches and no member runs
    db = ServiceProcess.start("cluster-db", Map.of(), "db", "--port", "0", "--data-dir", dbDir.toString());
    processes.add(db);
    db.awaitReady();
    // the front is the seed every other member joins through
    front = startFront("front").awaitReady();
    frontB = start("front-b", "--role", "http", "--http-port", "0", "--tcp-port", "0", "--instances", "1");
    workerA = startWorker("worker-a");
    workerB = startWorker("worker-b");
    frontB.awaitReady();
    workerA.awaitReady();
    workerB.awaitReady();
    awaitComputeMembers(2);
    zipkin = Zipkin.start(zipkinPort);
  }

  /** The front tests use: HTTP, TCP, the bridge; a grace period that lets a stopping front finish seconds of work. */
  private ServiceProcess startFront(String name, String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of("--role", "http", "--http-port", "0", "--tcp-port", "0", "--bridge-port",
      "0", "--instances", "2", "--set", "fib.attemptTimeoutMs=500", "--set", "shutdown.graceMs=30000"));
    args.addAll(List.of(more));
    return start(name, args.toArray(String[]::new));
  }

  /**
   * A worker with a grace period of 200 ms (a leaving worker hands back what runs longer) and its ops port (its
   * metrics say what it computes).
   */
  private ServiceProcess startWorker(String name) throws IOException {
    return start(name, "--role", "worker", "--set", "shutdown.graceMs=200", "--set", "ops.enabled=true",
      "--set", "ops.port=0");
  }

  @AfterAll
  void stopCluster() throws Exception {
    processes.forEach(ServiceProcess::close);
    if (zipkin != null) {
      zipkin.close();
    }
  }

  /**
   * A member: the cluster's name and seed, the database process's port and data directory (where its password is), a
   * lease of 10 minutes (a job handed back must not wait for it) and deadlines long enough for the heavy computations
   * on a loaded machine.
   */
  private ServiceProcess start(String name, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--cluster", "--set", "cluster.name=" + clusterName,
      "--set", "cluster.hazelcastPort=" + hazelcastPort, "--set", "cluster.members=" + joinList,
      "--set", "workerInstances=1", "--set", "eventLoops=2", "--set", "mysql.port=" + db.ports().getInteger("mysql"),
      "--set", "mysql.dataDir=" + dbDir, "--set", "jobs.leaseMs=600000", "--set", "fib.timeoutMs=120000",
      "--set", "sockjs.replyTimeoutMs=125000", "--set", "tracing.exporter=zipkin", "--set",
      "tracing.endpoint=" + zipkinEndpoint));
    all.addAll(List.of(args));
    ServiceProcess p = ServiceProcess.start("cluster-" + name, Map.of(), all.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  @Test
  @Order(10)
  void infoShowsTheMembersAndTheirRoles() throws Exception {
    JsonObject cluster = new JsonObject(get("/info").body()).getJsonObject("cluster");
    assertEquals(clusterName, cluster.getString("name"));
    assertEquals("http", cluster.getString("role"));
    JsonArray members = cluster.getJsonArray("members");
    assertEquals(4, members.size(), members.encodePrettily());
    List<String> roles = new ArrayList<>();
    members.forEach(m -> roles.add(((JsonObject) m).getString("role")));
    roles.sort(null);
    assertEquals(List.of("http", "http", "worker", "worker"), roles);
    members.forEach(m -> assertEquals(Version.current(), ((JsonObject) m).getString("version"),
      "each member says its release: " + m));
    assertTrue(front.log().contains("cluster " + clusterName + ": joined in"), "start-up logs the join");
  }

  @Test
  @Order(20)
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
    assertEquals(4, stats.getJsonArray("members").size(), stats.encode());
    Map<String, Long> byMember = new HashMap<>();
    stats.getJsonArray("workers").forEach(w -> byMember.merge(((JsonObject) w).getString("member"),
      ((JsonObject) w).getLong("computations"), Long::sum));
    assertEquals(Set.of(workerA.nodeName(), workerB.nodeName()), byMember.keySet(), stats.encode());
    assertTrue(byMember.values().stream().mapToLong(Long::longValue).sum() >= 20, stats.encode());
  }

  @Test
  @Order(25)
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
  @Order(30)
  void aHeavyComputationOutlivesTheShortAttemptTimeout() throws Exception {
    // fib.attemptTimeoutMs is 500 ms on the front; this takes longer, and must neither fail nor run twice
    HttpResponse<String> r = get("/fib/39?algorithm=recursive");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("63245986", new JsonObject(r.body()).getString("value"));
  }
  @Test
  @Order(36)
  void theMembersExportEveryMetricTheAlertRulesRead() throws Exception {
    get("/fib/30"); // a light one, so that the latency histogram has its series
    String fronts = get("/metrics").body();
    List<String> workers = new ArrayList<>();
    for (ServiceProcess worker : List.of(workerA, workerB)) {
      assertTrue(worker.opsPort() > 0, "a worker member serves its metrics on its ops port");
      workers.add(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.opsPort() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body());
    }
    Set<String> named = new java.util.TreeSet<>(RuleMetrics.names());
    named.removeAll(RuleMetrics.FROM_PROMETHEUS);
    List<String> scrapes = new ArrayList<>(workers);
    scrapes.add(fronts);
    assertEquals(Set.of(), RuleMetrics.missingFrom(named, scrapes.toArray(String[]::new)),
      "metrics the rules read but no member exports");
    // the front's view of each worker member, by name
    for (ServiceProcess worker : List.of(workerA, workerB)) {
      assertTrue(fronts.contains("fib_cluster_member_state{member=\"" + worker.nodeName() + "\",state=\"alive\"} 1.0"),
        fronts.lines().filter(l -> l.startsWith("fib_cluster_member_state")).toList().toString());
    }
    assertTrue(fronts.contains("fib_cluster_members{state=\"alive\"} 2.0"));
  }
  @Test
  @Order(65)
  void oneTraceRunsFromTheCallerThroughTheFrontToAWorkerMember() throws Exception {
    // spans sent before Zipkin serves are refused: this request's must not be (its start overlaps the tests before)
    zipkin.awaitReady();
    String traceId = ZipkinSpans.randomId(16);
    String callerSpan = ZipkinSpans.randomId(8);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.httpPort()
      + "/fib/77")).header("traceparent", "00-" + traceId + "-" + callerSpan + "-01").timeout(Duration.ofSeconds(10))
      .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("traceparent").orElse("").startsWith("00-" + traceId + "-"),
      "the answer names the caller's trace: " + r.headers().map());
    String worker = node(new JsonObject(r.body()).getString("worker"));
    JsonArray trace = zipkin.awaitTrace(traceId, List.of("get /fib/:n", "fib.call", "fib.attempt", "fib.compute"));
    JsonObject request = ZipkinSpans.one(trace, "get /fib/:n");
    assertEquals(callerSpan, request.getString("parentId"), "the front's span continues the caller's");
    JsonObject call = ZipkinSpans.one(trace, "fib.call");
    JsonObject attempt = ZipkinSpans.one(trace, "fib.attempt");
    JsonObject hop = ZipkinSpans.childOf(trace, attempt, "send");
    JsonObject gateway = ZipkinSpans.childOf(trace, hop, "fib.gateway");
    JsonObject compute = ZipkinSpans.childOf(trace, gateway, "fib.compute");
    assertEquals(request.getString("id"), call.getString("parentId"));
    assertEquals(call.getString("id"), attempt.getString("parentId"));
    assertEquals("CLIENT", attempt.getString("kind"));
    assertEquals("SERVER", hop.getString("kind"), "the worker's side of the event-bus hop");
    assertEquals(worker, ZipkinSpans.tag(attempt, "fib.member"), "the attempt names the member it chose");
    assertEquals("77", ZipkinSpans.tag(compute, "fib.n"));
    assertEquals("16", ZipkinSpans.tag(compute, "fib.digits"), "F(77) = 5527939700884757");
    // spans from both JVMs, each with its node's name
    for (JsonObject span : List.of(request, call, attempt)) {
      assertEquals(front.nodeName(), ZipkinSpans.tag(span, "fib.node"), span.encode());
    }
    for (JsonObject span : List.of(hop, gateway, compute)) {
      assertEquals(worker, ZipkinSpans.tag(span, "fib.node"), span.encode());
    }
  }

  @Test
  @Order(40)
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
  @Order(50)
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
  @Order(60)
  void theJavaExampleClientJoinsAndGetsAnAnswer() throws Exception {
    JavaClient.Run run = JavaClient.run(List.of("--cluster-name", clusterName, "--members", "127.0.0.1:" + hazelcastPort, "50"));
    assertEquals(0, run.exit(), run.output());
    assertTrue(run.output().contains("\"value\":\"" + F50 + "\""), run.output());
    awaitComputeMembers(2); // the client has left again
  }

  /**
   * Started as the docs show it (db, then http and worker members), the cluster runs jobs: the workers, which compute
   * and reach the database, run them; both fronts serve /db; readiness names its checks, the cluster's among them.
   */
  @Test
  @Order(70)
  void aClusterStartedAsDocumentedRunsJobsOnItsWorkers() throws Exception {
    for (ServiceProcess f : List.of(front, frontB)) {
      HttpResponse<String> ready = get(f, "/health/ready");
      assertEquals(200, ready.statusCode(), ready.body());
      JsonObject checks = new JsonObject();
      new JsonObject(ready.body()).getJsonArray("checks").forEach(c -> checks.put(((JsonObject) c).getString("id"),
        c));
      assertEquals(Set.of("accepting", "warmup", "workers", "database", "cluster"), checks.fieldNames(), ready.body());
      assertTrue(checks.getJsonObject("cluster").getJsonObject("data").getBoolean("safe"), ready.body());
      assertEquals("{\"value\":1}", get(f, "/db").body());
    }
    String id = submit(front, 500);
    JsonObject job = awaitDone(front, id);
    assertEquals(105, job.getInteger("digits"), job.encode());
    String ran = workerA.log() + workerB.log();
    assertTrue(ran.contains("job " + id + " DONE"), "a worker member ran it");
  }

  /**
   * A front is stopped (SIGTERM) and started again while the database and jobs keep working through the other members:
   * the request it had in flight is answered whole and its keep-alive connection then closed, never cut; meanwhile the
   * other front serves /db and takes jobs, which the workers run; started again, it serves both again.
   */
  @Test
  @Order(80)
  void aFrontStoppedAndStartedAgainLeavesTheDatabaseAndJobsWorking() throws Exception {
    try (Socket keptAlive = new Socket("127.0.0.1", front.httpPort())) {
      keptAlive.setSoTimeout(60_000);
      var out = keptAlive.getOutputStream();
      out.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      var in = new java.io.BufferedInputStream(keptAlive.getInputStream());
      assertTrue(readResponse(in).startsWith("HTTP/1.1 200"), "the connection is kept alive");
      // seconds of work in flight on this connection when the stop comes
      out.write("GET /fib/40?algorithm=recursive HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      Eventually.await("the computation to be in flight", Duration.ofSeconds(30), () -> inFlightOnWorkers() > 0);
      front.terminate();
      String response = readResponse(in);
      assertTrue(response.startsWith("HTTP/1.1 200"), response);
      assertTrue(response.contains("\"value\":\"102334155\""), "answered whole: " + response);
      assertEquals(-1, in.read(), "then the connection is closed, between requests");
    }
    // while it is gone, the other front serves the database and takes jobs
    String during = submit(frontB, 400);
    assertEquals("{\"value\":1}", get(frontB, "/db").body());
    assertEquals(0, front.awaitExit(60), front.log());
    assertTrue(front.log().contains("stopped"), front.log());
    assertEquals(84, awaitDone(frontB, during).getInteger("digits"));
    // started again, joining through the members that stayed
    String seeds = "127.0.0.1:" + workerA.ports().getInteger("hazelcast") + ",127.0.0.1:"
      + workerB.ports().getInteger("hazelcast");
    front = startFront("front-again", "--set", "cluster.hazelcastPort=0", "--set", "cluster.members=" + seeds)
      .awaitReady();
    joinList = "127.0.0.1:" + front.ports().getInteger("hazelcast");
    awaitComputeMembers(2);
    HttpResponse<String> ready = Eventually.poll(Duration.ofSeconds(60), () -> get(front, "/health/ready"),
      r -> r.statusCode() == 200);
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("{\"value\":1}", get(front, "/db").body());
    assertEquals(209, awaitDone(front, submit(front, 1000)).getInteger("digits"));
  }

  /**
   * A worker stopped by SIGTERM under load: no request fails. It hands its work back at once, counted: the job it runs
   * is PENDING again for the other worker, which finishes it (a second attempt) long before jobs.leaseMs (10 minutes
   * here); what it still computes at the end of its grace period (200 ms), a heavy computation at least, is answered
   * 503, which the front, told it leaves, sends to the other worker (retries handed_back); the fronts said they had
   * seen it leave.
   */
  @Test
  @Order(90)
  void aWorkerStoppedBySigtermHandsItsWorkBackAndFailsNoRequest() throws Exception {
    long handedBack = retries("handed_back");
    try (Load load = new Load()) {
      load.awaitRequests(50);
      String job = submit(front, new JsonObject().put("n", 42).put("algorithm", "recursive"));
      ServiceProcess running = Eventually.poll(Duration.ofSeconds(60), () -> runnerOf(job), p -> p != null);
      assertTrue(running != null, "no worker took job " + job);
      // heavy computations until one runs on that worker (the front sends each to the member with the fewest in
      // flight: the load's light requests count too), as its own metrics say
      HttpRequest f42 = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.httpPort()
        + "/fib/42?algorithm=recursive")).timeout(Duration.ofSeconds(150)).build();
      List<CompletableFuture<HttpResponse<String>>> heavy = new ArrayList<>();
      while (heavy.size() < 6 && !heavyInFlight(running)) {
        heavy.add(http.sendAsync(f42, HttpResponse.BodyHandlers.ofString()));
        Eventually.within(Duration.ofSeconds(5), () -> heavyInFlight(running));
      }
      assertTrue(heavyInFlight(running), "none of " + heavy.size() + " heavy computations ran on the stopping worker");
      running.terminate();
      assertEquals(0, running.awaitExit(60), running.log());
      for (CompletableFuture<HttpResponse<String>> f : heavy) {
        HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("267914296", new JsonObject(r.body()).getString("value"));
      }
      JsonObject done = awaitDone(front, job);
      assertEquals(2, done.getInteger("attempts"), "given back, run again: " + done.encode());
      load.awaitRequests(load.total() + 50);
      load.stop();
      assertEquals(Map.of(), load.failures(), "failed requests while a worker left gracefully");
      String log = running.log();
      assertTrue(log.contains("job runner stopping: gave 1 of 1 running jobs back"), log);
      assertTrue(log.contains("leaving the cluster: 2 of 2 fronts have seen it"), log);
      assertTrue(java.util.regex.Pattern.compile("handed back \\d+ computations that ran past shutdown.graceMs")
        .matcher(log).find(), log);
      assertTrue(retries("handed_back") > handedBack, "the front moved what the worker handed back");
      // back to two workers for the next tests
      if (running == workerA) {
        workerA = startWorker("worker-c").awaitReady();
      } else {
        workerB = startWorker("worker-c").awaitReady();
      }
    }
    awaitComputeMembers(2);
  }

  /** The worker member whose log says it runs this job, or null. */
  private ServiceProcess runnerOf(String job) throws IOException {
    for (ServiceProcess w : List.of(workerA, workerB)) {
      if (w.log().contains("job " + job + " F(42) recursive running (attempt 1)")) {
        return w;
      }
    }
    return null;
  }

  /** Whether this worker computes something in its heavy lane now (its ops port's metrics). */
  private boolean heavyInFlight(ServiceProcess worker) throws Exception {
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.ports().getInteger("ops")
      + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().anyMatch(l -> l.startsWith("fib_in_flight{lane=\"heavy\"}") && !l.endsWith(" 0.0"));
  }

  /** The front's retries for this reason. */
  private long retries(String reason) throws Exception {
    return new JsonObject(get(front, "/info").body()).getJsonObject("cluster").getJsonObject("retries").getLong(reason);
  }

  @Test
  @Order(100)
  void aWorkerKilledMidStreamFailsNoRequest() throws Exception {
    try (Load load = new Load()) {
      load.awaitRequests(50);
      // heavy computations: the least loaded member gets the next, so they alternate and some run on the victim;
      // each in a trace of the test's, where the retry is to be seen (the next test)
      List<String> traces = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        traces.add(ZipkinSpans.randomId(16));
      }
      List<CompletableFuture<HttpResponse<String>>> heavy = new ArrayList<>();
      for (String trace : traces) {
        heavy.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.httpPort()
            + "/fib/37?algorithm=recursive")).header("traceparent", "00-" + trace + "-" + ZipkinSpans.randomId(8) + "-01")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      Thread.sleep(100);
      workerB.kill();
      Thread.sleep(2000); // the stream goes on past the member's removal (~0.3 s on loopback)
      load.awaitRequests(load.total() + 100);
      load.stop();
      assertEquals(Map.of(), load.failures(), "failed requests after kill -9 of a worker");
      for (int i = 0; i < heavy.size(); i++) {
        HttpResponse<String> r = heavy.get(i).get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("24157817", new JsonObject(r.body()).getString("value"));
        killedMidCall.put(traces.get(i), r);
      }
      assertTrue(load.nodes().contains(workerA.nodeName()));
    }
  }
  @Test
  @Order(105)
  void theRetryOfTheKilledMembersComputationIsASecondAttemptInTheSameTrace() throws Exception {
    assertEquals(4, killedMidCall.size(), "the kill test ran first");
    zipkin.awaitReady();
    int retried = 0;
    for (Map.Entry<String, HttpResponse<String>> sent : killedMidCall.entrySet()) {
      JsonArray trace = zipkin.awaitTrace(sent.getKey(), List.of("get /fib/:n", "fib.call", "fib.compute"));
      List<JsonObject> attempts = ZipkinSpans.named(trace, "fib.attempt");
      String survivor = workerA.nodeName();
      if (attempts.size() == 1) {
        assertEquals(survivor, ZipkinSpans.tag(attempts.get(0), "fib.member"), "an attempt that was not retried ran on "
          + "the member that lived");
        continue;
      }
      retried++;
      assertEquals(2, attempts.size(), trace.encodePrettily());
      attempts.sort(java.util.Comparator.comparing(a -> ZipkinSpans.tag(a, "fib.attempt")));
      JsonObject first = attempts.get(0);
      JsonObject second = attempts.get(1);
      JsonObject call = ZipkinSpans.one(trace, "fib.call");
      assertEquals(call.getString("id"), first.getString("parentId"));
      assertEquals(call.getString("id"), second.getString("parentId"));
      assertEquals(workerB.nodeName(), ZipkinSpans.tag(first, "fib.member"), "the first went to the member killed");
      assertEquals(survivor, ZipkinSpans.tag(second, "fib.member"));
      String reason = ZipkinSpans.tag(second, "fib.retry.of");
      assertTrue(List.of("member_left", "suspected", "no_handlers", "unreachable").contains(reason), reason);
      assertTrue(first.getJsonArray("annotations", new JsonArray()).stream()
        .anyMatch(a -> ((JsonObject) a).getString("value").startsWith("\"retry\"")), "the retry is an event of the"
        + " attempt given up: " + first.encode());
      // the second attempt's work is in the trace, from the member that lived
      JsonObject compute = ZipkinSpans.childOf(trace, ZipkinSpans.childOf(trace, ZipkinSpans.childOf(trace, second, "send"),
        "fib.gateway"), "fib.compute");
      assertEquals(survivor, ZipkinSpans.tag(compute, "fib.node"));
      assertTrue(sent.getValue().headers().firstValue("traceparent").orElse("").startsWith("00-" + sent.getKey()));
    }
    assertTrue(retried >= 1, "the heavy computations that ran on the member killed were retried");
  }

  @Test
  @Order(110)
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

  /** As make cluster-stop does it: the members first, the database last; it stops cleanly on SIGTERM. */
  @Test
  @Order(120)
  void theDatabaseStopsCleanlyLast() throws Exception {
    for (ServiceProcess member : List.of(front, frontB)) {
      member.terminate();
      assertEquals(0, member.awaitExit(60), member.log());
    }
    db.terminate();
    assertEquals(0, db.awaitExit(60), db.log());
    assertTrue(db.log().contains("embedded MariaDB stopped"), db.log());
  }

  // --- helpers ---

  private HttpResponse<String> get(ServiceProcess member, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + member.httpPort() + path))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Submits F(n) as a job through this front; its id. */
  private String submit(ServiceProcess member, int n) throws Exception {
    return submit(member, new JsonObject().put("n", n));
  }

  private String submit(ServiceProcess member, JsonObject job) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + member.httpPort()
        + "/jobs")).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(job.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("id");
  }

  /** Waits (bounded: a hang guard) until the job is DONE; its JSON. */
  private JsonObject awaitDone(ServiceProcess member, String id) throws Exception {
    JsonObject job = Eventually.poll(Duration.ofSeconds(120), () -> new JsonObject(get(member, "/jobs/" + id).body()),
      j -> !"PENDING".equals(j.getString("status")) && !"RUNNING".equals(j.getString("status")));
    assertEquals("DONE", job.getString("status"), job.encode());
    return job;
  }

  /** Computations the front has in flight on worker members, from its /info. */
  private int inFlightOnWorkers() throws Exception {
    int n = 0;
    for (Object m : new JsonObject(get(front, "/info").body()).getJsonObject("cluster").getJsonArray("members")) {
      n += ((JsonObject) m).getInteger("inFlight", 0);
    }
    return n;
  }

  /** One HTTP/1.1 response with a Content-Length body, read whole from the stream. */
  private static String readResponse(java.io.InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the connection closed within a response head: " + head);
      }
      head.append((char) b);
    }
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
    return head + new String(body, StandardCharsets.UTF_8);
  }

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
      if (seen == count && members.size() == count + 2) {
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
