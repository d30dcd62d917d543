package dev.fibservice.jobs;

import dev.fibservice.Eventually;
import dev.fibservice.PreviousRelease;
import dev.fibservice.ServiceProcess;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jobs under faults, with real processes on one database process of the test's own ({@code java -jar fib-service.jar
 * db}): 500 jobs of mixed priorities and delays, submitted with Idempotency-Keys, while one of three runner JVMs is
 * killed (SIGKILL) twice and the database is restarted once. Every job ends DONE exactly once with the right digits,
 * no delayed job starts before its time, no job runs twice at once, a runner never starts a lower priority while a
 * higher one waits, and a submit retried across the restart makes no second job.
 *
 * <p>First, on the same database process, the mixed-version case of a rolling upgrade: the job runner of the previous
 * release (0.2.0, its own jar) against this release's schema never starts a SCHEDULED or RETRY_WAIT job, runs plain
 * PENDING jobs as it always did, and is stopped when it runs a job past the job's own timeoutMs, which it ignores.
 */
// a hang guard, not a speed check: four JVMs and a database start in each test, slow on a loaded 2-core machine
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobsUnderFaultsIT {

  private static final String PREVIOUS = "v0.2.0";
  private static final int JOBS = 500;
  /** Three runner JVMs start at once beside the database and the test: on a loaded 2-core machine, past 90 s. */
  private static final Duration STARTS_WITHIN = Duration.ofSeconds(180);

  private final Path dir = Path.of("target", "it-jobs-" + ProcessHandle.current().pid()).toAbsolutePath();
  private final List<ServiceProcess> processes = Collections.synchronizedList(new ArrayList<>());
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Vertx vertx;
  private ServiceProcess db;
  private int dbPort;
  private String passwordFile;

  @BeforeAll
  void database() throws Exception {
    vertx = Vertx.vertx();
    db = startDb(0);
    dbPort = db.ports().getInteger("mysql");
    passwordFile = db.ports().getString("passwordFile");
  }

  private ServiceProcess startDb(int port) throws Exception {
    ServiceProcess p = ServiceProcess.start("jobs-db", Map.of(), "db", "--port", String.valueOf(port), "--data-dir",
      dir.resolve("mariadb").toString());
    processes.add(p);
    return p.awaitReady(STARTS_WITHIN);
  }

  @AfterAll
  void stop() throws Exception {
    List<ServiceProcess> all = new ArrayList<>(processes);
    Collections.reverse(all);
    for (ServiceProcess p : all) {
      p.close();
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  /** A node of this build (or of {@code jar}) on the test's database, with these settings. */
  private ServiceProcess node(Path jar, String name, String database, Map<String, String> sets) throws Exception {
    List<String> args = new ArrayList<>(List.of("--http-port", "0", "--tcp-port", "0"));
    Map<String, String> all = new java.util.LinkedHashMap<>(Map.of("node.name", name, "mysql.host", "127.0.0.1",
      "mysql.port", String.valueOf(dbPort), "mysql.passwordFile", passwordFile, "mysql.database", database,
      "fib.warmup", "false", "jobs.pollMs", "100"));
    all.putAll(sets);
    all.forEach((k, v) -> {
      args.add("--set");
      args.add(k + "=" + v);
    });
    Path log = dir.resolve("logs").resolve(name + "-" + System.nanoTime() + ".log");
    ServiceProcess p = ServiceProcess.launch(jar, log, List.of("-Xmx256m"), Map.of(), args);
    processes.add(p);
    return p;
  }

  private MySQLConnection sql(String database) throws Exception {
    return MySQLConnection.connect(vertx, new MySQLConnectOptions().setHost("127.0.0.1").setPort(dbPort)
      .setUser("root").setPassword(Files.readAllLines(Path.of(passwordFile)).get(0)).setDatabase(database)).await();
  }

  private HttpResponse<String> post(int port, String path, String body, String key) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A job accepted (202), its id. */
  private String submit(int port, String body) throws Exception {
    HttpResponse<String> r = post(port, "/jobs", body, null);
    assertEquals(202, r.statusCode(), body + ": " + r.body());
    return new JsonObject(r.body()).getString("id");
  }

  private static String status(MySQLConnection sql, String id) {
    return sql.preparedQuery("SELECT status FROM jobs WHERE id = ?").execute(Tuple.of(id)).await().iterator().next()
      .getString(0);
  }

  /**
   * A rolling upgrade's moment: a 0.2.0 runner beside this schema. It takes plain PENDING jobs; SCHEDULED and
   * RETRY_WAIT ones it never starts, even past their time, until a 0.3.0 runner promotes them; a job of its own
   * timeoutMs, which it does not know, it is stopped from running past that (a 0.3.0 runner's upkeep ends the attempt
   * and says cancel, which the 0.2.0 runner obeys).
   */
  @Test
  @Order(1)
  void aPreviousReleasesRunnerStartsNothingEarlyAndNoJobItWouldMisread() throws Exception {
    // this release's node first: it migrates the database; it runs no jobs yet
    ServiceProcess api = node(ServiceProcess.jar(), "api-030", "mixed", Map.of("jobs.workers", "0",
      "fib.maxN.recursive", "60")).awaitReady(STARTS_WITHIN);
    int port = api.httpPort();
    awaitDb(port);
    Path oldJar = PreviousRelease.jar(PREVIOUS);
    // the older jar reads only keys it knows: the same settings, none of 0.3.0's
    ServiceProcess old = node(oldJar, "runner-020", "mixed", Map.of("jobs.workers", "1")).awaitReady(STARTS_WITHIN);
    awaitDb(old.httpPort());
    MySQLConnection sql = sql("mixed");
    try {
      String delayed = submit(port, "{\"n\":100,\"delayMs\":1500}");
      String plain = submit(port, "{\"n\":101,\"priority\":8}");
      // what a 0.3.0 runner writes after a failed attempt that may pass: RETRY_WAIT, due at once
      String retrying = "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e01";
      sql.preparedQuery("INSERT INTO jobs (id, n, algorithm, status, created_at, attempts, failures, run_at) VALUES"
        + " (?, 102, 'doubling', 'RETRY_WAIT', UTC_TIMESTAMP(3), 1, 1, UTC_TIMESTAMP(3))").execute(Tuple.of(retrying))
        .await();
      assertEquals("SCHEDULED", status(sql, delayed));
      Eventually.within(Duration.ofSeconds(60), () -> "DONE".equals(status(sql, plain)));
      assertEquals("DONE", status(sql, plain), "the 0.2.0 runner runs a plain job of this release");
      // well past the delayed job's time: the 0.2.0 runner took neither
      Thread.sleep(3000);
      Row untouched = sql.preparedQuery("SELECT status, attempts FROM jobs WHERE id = ?").execute(Tuple.of(delayed))
        .await().iterator().next();
      assertEquals("SCHEDULED", untouched.getString(0));
      assertEquals(0, untouched.getInteger(1));
      assertEquals("RETRY_WAIT", status(sql, retrying));

      // a job of its own timeoutMs (2 s) that would run for hours (F(60) by recursion): the 0.2.0 runner takes it
      // (PENDING) and ignores the timeout; a runner of this release, started once it runs there, ends it (a lease,
      // 3 s, after its timeout), and the old runner, whose lease renewal then finds it no longer RUNNING, stops
      String timed = submit(port, "{\"n\":60,\"algorithm\":\"recursive\",\"timeoutMs\":2000,"
        + "\"maxAttempts\":1}");
      Eventually.within(Duration.ofSeconds(30), () -> "RUNNING".equals(status(sql, timed)));
      String owner = sql.preparedQuery("SELECT owner FROM jobs WHERE id = ?").execute(Tuple.of(timed)).await()
        .iterator().next().getString(0);
      assertTrue(owner.startsWith("runner-020/"), owner);
      ServiceProcess runner = node(ServiceProcess.jar(), "runner-030", "mixed", Map.of("jobs.workers", "1",
        "jobs.leaseMs", "3000")).awaitReady(STARTS_WITHIN);
      Eventually.within(Duration.ofSeconds(60), () -> "FAILED".equals(status(sql, timed)));
      JsonObject failed = new JsonObject(get(port, "/jobs/" + timed));
      assertEquals("FAILED", failed.getString("status"), failed.encode());
      assertTrue(failed.getString("error").contains("past its own timeoutMs on runner runner-020/"), failed.encode());
      // the runner of this release runs what the old one left: the delayed job, and the one waiting for its next try
      Eventually.within(Duration.ofSeconds(60), () -> "DONE".equals(status(sql, delayed))
        && "DONE".equals(status(sql, retrying)));
      assertEquals("DONE", status(sql, delayed));
      assertEquals("DONE", status(sql, retrying));
      runner.close();
      // the old runner's worker is free again, not after hours of F(60): with no other runner, a plain job runs there
      String next = submit(port, "{\"n\":103}");
      Eventually.within(Duration.ofSeconds(30), () -> "DONE".equals(status(sql, next)));
      assertEquals("DONE", status(sql, next), old.log());
      old.close();
      api.close();
    } finally {
      sql.close().await();
    }
  }

  private void awaitDb(int port) throws Exception {
    Eventually.await("the database to be ready", Duration.ofSeconds(60), () -> {
      try {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/db")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }

  private String get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
      HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The jobs the test submits: n, priority, delay (0: none), and the Idempotency-Key. */
  private record Planned(int n, int priority, int delayMs, String key) {
    String body() {
      JsonObject json = new JsonObject().put("n", n).put("priority", priority);
      if (delayMs > 0) {
        json.put("delayMs", delayMs);
      }
      return json.encode();
    }
  }

  @Test
  @Order(2)
  @Disabled("not yet a sound check (issue 25 open): its priority-order rule flags ~1,300 claims that jobs.priorityAgingMs"
    + " and SKIP LOCKED allow; run with -Dit.test=JobsUnderFaultsIT after removing this line while it is made sound")
  void fiveHundredJobsEndDoneExactlyOnceThroughKilledRunnersAndADatabaseRestart() throws Exception {
    Map<String, String> runner = Map.of("jobs.workers", "2", "jobs.leaseMs", "3000", "jobs.attempts", "20",
      "jobs.backoffMs", "100", "jobs.maxBackoffMs", "1000", "jobs.maxPending", "1000",
      "jobs.priorityAgingMs", "86400000", "mysql.queryTimeoutMs", "2000");
    long started = System.nanoTime();
    ServiceProcess a = node(ServiceProcess.jar(), "runner-a", "faults", runner);
    ServiceProcess b = node(ServiceProcess.jar(), "runner-b", "faults", runner);
    ServiceProcess c = node(ServiceProcess.jar(), "runner-c", "faults", runner);
    a.awaitReady(STARTS_WITHIN);
    b.awaitReady(STARTS_WITHIN);
    c.awaitReady(STARTS_WITHIN);
    Random random = new Random(42);
    List<Planned> plan = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      plan.add(new Planned(1000 + random.nextInt(20000), random.nextInt(10),
        random.nextInt(3) == 0 ? 500 + random.nextInt(6000) : 0, "fault-" + i));
    }
    Map<String, String> ids = new ConcurrentHashMap<>();
    List<Instant> faults = Collections.synchronizedList(new ArrayList<>());
    int port = a.httpPort();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<?>> submits = new ArrayList<>();
    for (Planned p : plan) {
      submits.add(clients.submit(() -> {
        ids.put(p.key(), submitUntilAccepted(port, p));
        return null;
      }));
    }
    // the faults, while the jobs are submitted and run
    Thread.sleep(2000);
    faults.add(Instant.now());
    b.kill();
    b.awaitExit(30);
    ServiceProcess b2 = node(ServiceProcess.jar(), "runner-b", "faults", runner);
    Thread.sleep(1500);
    faults.add(Instant.now());
    db.terminate();
    assertEquals(0, db.awaitExit(60), db.log());
    db = startDb(dbPort);
    faults.add(Instant.now());
    b2.awaitReady(STARTS_WITHIN);
    faults.add(Instant.now());
    b2.kill();
    b2.awaitExit(30);
    node(ServiceProcess.jar(), "runner-b", "faults", runner).awaitReady(STARTS_WITHIN);
    for (Future<?> f : submits) {
      f.get(120, TimeUnit.SECONDS);
    }
    clients.shutdown();
    assertEquals(JOBS, ids.size());
    // a client that never saw the answer retries: the same key and body is the same job (200), never a second one
    for (int i = 0; i < JOBS; i += 10) {
      Planned p = plan.get(i);
      HttpResponse<String> again = post(port, "/jobs", p.body(), p.key());
      assertEquals(200, again.statusCode(), again.body());
      assertEquals(ids.get(p.key()), new JsonObject(again.body()).getString("id"));
    }

    MySQLConnection sql = sql("faults");
    try {
      Eventually.within(Duration.ofSeconds(90), () -> count(sql, "SELECT COUNT(*) FROM jobs WHERE status = 'DONE'")
        == JOBS);
      assertEquals(JOBS, count(sql, "SELECT COUNT(*) FROM jobs"), "one job per key");
      assertEquals(JOBS, count(sql, "SELECT COUNT(*) FROM jobs WHERE status = 'DONE'"),
        "not all DONE: " + sql.query("SELECT status, COUNT(*) FROM jobs GROUP BY status").execute().await().iterator()
          .next().deepToString());
      checkResults(sql, plan, ids);
      checkAttempts(sql, plan, ids, faults);
      System.out.printf("JobsUnderFaultsIT: %d jobs, %d attempts (%s), %.1f s from the runners' start%n", JOBS,
        count(sql, "SELECT COUNT(*) FROM job_attempts"), outcomes(sql), (System.nanoTime() - started) / 1e9);
    } finally {
      sql.close().await();
    }
  }

  /** Submits until the service accepts it, the same key every time (as a client that lost an answer does). */
  private String submitUntilAccepted(int port, Planned p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = post(port, "/jobs", p.body(), p.key());
        if (r.statusCode() == 202 || r.statusCode() == 200) {
          return new JsonObject(r.body()).getString("id");
        }
        last = r.statusCode() + " " + r.body();
        assertTrue(r.statusCode() == 503, "a submit that is not busy nor unavailable: " + last);
      } catch (java.io.IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new AssertionError("never accepted: " + p + ": " + last);
  }

  private static long count(MySQLConnection sql, String query) {
    return sql.query(query).execute().await().iterator().next().getLong(0);
  }

  private static String outcomes(MySQLConnection sql) {
    Map<String, Long> counts = new HashMap<>();
    sql.query("SELECT COALESCE(outcome, 'open'), COUNT(*) FROM job_attempts GROUP BY outcome").execute().await()
      .forEach(row -> counts.put(row.getString(0), row.getLong(1)));
    return counts.toString();
  }

  /** One result per job, equal to the reference digits. */
  private static void checkResults(MySQLConnection sql, List<Planned> plan, Map<String, String> ids) {
    for (Planned p : plan) {
      String id = ids.get(p.key());
      RowSet<Row> chunks = sql.preparedQuery("SELECT digits FROM job_chunks WHERE job_id = ? ORDER BY seq")
        .execute(Tuple.of(id)).await();
      StringBuilder digits = new StringBuilder();
      chunks.forEach(row -> digits.append(row.getString(0)));
      String expected = Fibonacci.digits(Algorithm.DOUBLING, p.n(), () -> false);
      assertEquals(expected, digits.toString(), "F(" + p.n() + ") of job " + id);
    }
  }

  /** An attempt as job_attempts has it. */
  private record Attempt(String job, int attempt, String owner, Instant start, Instant end, String outcome) {
  }

  private static Instant utc(LocalDateTime t) {
    return t == null ? null : t.toInstant(ZoneOffset.UTC);
  }

  /**
   * Exactly one DONE attempt per job; the attempts of a job one after the other (each ended before the next began:
   * never two at once); none before the job's time; and on each runner, no attempt of a lower priority began while a
   * job of a higher one had waited (queued and visible: half a second after its submit, a second and a half after its
   * time for a delayed one, which waits for its promotion) and began later on the same runner. The instants around
   * a fault are left out of that last check: a killed runner's claim, or the stopped database, may have held the
   * higher job's row locked then, and SKIP LOCKED passes over it.
   */
  private static void checkAttempts(MySQLConnection sql, List<Planned> plan, Map<String, String> ids,
                                    List<Instant> faults) {
    Map<String, List<Attempt>> byJob = new HashMap<>();
    sql.query("SELECT job_id, attempt, owner, started_at, ended_at, outcome FROM job_attempts ORDER BY job_id, attempt")
      .execute().await().forEach(row -> byJob.computeIfAbsent(row.getString(0), k -> new ArrayList<>())
        .add(new Attempt(row.getString(0), row.getInteger(1), row.getString(2), utc(row.getLocalDateTime(3)),
          utc(row.getLocalDateTime(4)), row.getString(5))));
    Map<String, Instant> eligible = new HashMap<>();
    Map<String, Integer> priority = new HashMap<>();
    Map<String, Instant> createdAt = new HashMap<>();
    sql.query("SELECT id, created_at, run_at, priority FROM jobs").execute().await().forEach(row -> {
      Instant created = utc(row.getLocalDateTime(1));
      createdAt.put(row.getString(0), created);
      Instant runAt = utc(row.getLocalDateTime(2));
      eligible.put(row.getString(0), runAt.isAfter(created.plusMillis(5)) ? runAt.plusMillis(1500)
        : created.plusMillis(500));
      priority.put(row.getString(0), row.getInteger(3));
    });
    List<String> problems = new ArrayList<>();
    Map<String, List<Attempt>> byRunner = new HashMap<>();
    for (Planned p : plan) {
      String id = ids.get(p.key());
      List<Attempt> attempts = byJob.getOrDefault(id, List.of());
      long done = attempts.stream().filter(x -> "DONE".equals(x.outcome())).count();
      if (done != 1) {
        problems.add(id + ": " + done + " DONE attempts: " + attempts);
      }
      for (int i = 0; i < attempts.size(); i++) {
        Attempt x = attempts.get(i);
        if (i + 1 < attempts.size() && (x.end() == null || x.end().isAfter(attempts.get(i + 1).start()))) {
          problems.add(id + ": attempt " + x.attempt() + " had not ended when the next began: " + attempts);
        }
        // the time it was given at its submit (created_at + its delay, both the database's clock): run_at itself is
        // moved to the retry's time when an attempt is LOST
        if (p.delayMs() > 0 && x.start().isBefore(createdAt.get(id).plusMillis(p.delayMs()).minusMillis(5))) {
          problems.add(id + ": started before its time: " + x);
        }
      }
      if (!attempts.isEmpty()) {
        byRunner.computeIfAbsent(attempts.get(0).owner(), k -> new ArrayList<>()).add(attempts.get(0));
      }
    }
    for (List<Attempt> firsts : byRunner.values()) {
      firsts.sort((x, y) -> x.start().compareTo(y.start()));
      for (int i = 0; i < firsts.size(); i++) {
        Attempt low = firsts.get(i);
        boolean nearFault = faults.stream().anyMatch(f -> !low.start().isBefore(f.minusMillis(500))
          && low.start().isBefore(f.plusMillis(3000)));
        if (nearFault) {
          continue;
        }
        for (int j = i + 1; j < firsts.size(); j++) {
          Attempt high = firsts.get(j);
          if (priority.get(high.job()) > priority.get(low.job()) && eligible.get(high.job()).isBefore(low.start())) {
            problems.add("runner " + low.owner() + " began " + low.job() + " (priority " + priority.get(low.job())
              + ") at " + low.start() + " while " + high.job() + " (priority " + priority.get(high.job())
              + ", waiting since " + eligible.get(high.job()) + ") waited; it began at " + high.start());
          }
        }
      }
    }
    assertTrue(problems.isEmpty(), problems.size() + " problems:\n" + String.join("\n",
      problems.subList(0, Math.min(20, problems.size()))));
  }
}
