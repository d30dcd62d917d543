package dev.fibservice.db;

import ch.qos.logback.classic.Level;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.math.BigFibonacci;
import dev.fibservice.jobs.JobRunner;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded MariaDB killed under a node (its own server, not the shared test one): the node says so,
 * answers 503 at once, starts it again, and a job that was running when it died still ends DONE with the
 * right digits; the jobs after it run too.
 */
class EmbeddedSupervisionTest {

  /** F(N) by doubling takes seconds even on a warm JVM: it surely still computes when its lease (500 ms) runs out. */
  private static final int N = 100_000_000;

  @Test
  void aKilledServerIsStartedAgainAndARunningJobStillEndsDone() throws Exception {
    Path dir = Path.of("target", "test-mariadb-killed-" + ProcessHandle.current().pid(), "mariadb").toAbsolutePath();
    Vertx vertx = Vertx.vertx();
    FibService node = null;
    try (CapturedLog log = new CapturedLog(EmbeddedMariaDb.class, JobRunner.class)) {
      node = TestNodes.start(Map.of("mysql.host", "embedded", "mysql.dataDir", dir.toString(), "mysql.port", "0",
        "jobs.leaseMs", "500", "jobs.pollMs", "100", "fib.maxN.doubling", String.valueOf(N)));
      DbTestNodes.awaitReady(node);
      WebClient client = TestNodes.client(vertx, node);
      String id = client.post("/jobs").sendJsonObject(new JsonObject().put("n", N)).await().bodyAsJsonObject()
        .getString("id");
      awaitStatus(client, id, "RUNNING", 120);

      ProcessHandle mariadbd = mariadbd(dir);
      assertTrue(mariadbd.destroyForcibly(), "SIGKILL");
      mariadbd.onExit().get(30, TimeUnit.SECONDS);

      // until it runs again: 503 at once, saying why
      String[] seen = {null};
      Eventually.within(Duration.ofSeconds(10), () -> {
        HttpResponse<Buffer> r = client.get("/db").send().await();
        seen[0] = r.statusCode() == 503 ? r.bodyAsJsonObject().getString("error") : seen[0];
        return seen[0] != null && seen[0].contains("exited");
      });
      String reason = seen[0];
      assertTrue(reason != null && reason.startsWith("the embedded MariaDB exited (signal 9 SIGKILL); restarting"),
        reason);
      JsonObject ready = client.get("/health/ready").send().await().bodyAsJsonObject();
      if ("DOWN".equals(ready.getString("status"))) {
        String check = ready.getJsonArray("checks").stream().map(JsonObject.class::cast)
          .filter(c -> "database".equals(c.getString("id"))).findFirst().orElseThrow().encode();
        assertTrue(check.contains("the embedded MariaDB"), check);
      }

      int status = Eventually.poll(Duration.ofSeconds(60), () -> client.get("/db").send().await().statusCode(),
        s -> s == 200);
      assertEquals(200, status, "the embedded MariaDB was not started again\n" + log.text());
      assertTrue(mariadbd(dir).pid() != mariadbd.pid());
      String after = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 1000)).await().bodyAsJsonObject()
        .getString("id");

      JsonObject job = awaitStatus(client, id, "DONE", 300);
      String expected = BigFibonacci.decimal(BigFibonacci.fib(N, () -> false), () -> false);
      assertEquals(expected.length(), job.getInteger("digits"));
      String digits = client.get("/jobs/" + id + "/result").send().await().bodyAsString();
      assertEquals(expected.length() + 1, digits.length());
      assertEquals(expected.substring(0, 1000), digits.substring(0, 1000));
      assertEquals(expected.substring(expected.length() - 1000) + "\n", digits.substring(digits.length() - 1001));
      assertTrue(job.getInteger("digits") > 20_000_000);

      assertEquals(209, awaitStatus(client, after, "DONE", 300).getInteger("digits"));

      String all = log.text();
      assertEquals(1, log.count(Level.WARN, "the embedded MariaDB exited (signal 9 SIGKILL); restarting it in 1 s"), all);
      assertEquals(1, log.count(Level.INFO, "the embedded MariaDB runs again"), all);
      // the runner lost its database mid-job and gave the job up: once its lease ran out while computing (or,
      // had the computation ended first, as it could not record the outcome); then the job ran again
      assertTrue(log.count(Level.WARN, "job " + id + ": its lease could not be renewed") >= 1
        || log.count(Level.WARN, "job " + id + ": could not record its outcome") >= 1, all);
      assertTrue(log.count(Level.INFO, "job " + id + " F(" + N + ") doubling running (attempt 2)") == 1, all);
      // one line for the outage, not one per poll
      assertTrue(log.count(Level.WARN, "job runner: cannot look for jobs") <= 1, all);
      assertEquals(0, log.count(Level.WARN, "job poll failed"), all);
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
    }
  }

  /** The server process on this data directory: a child of this JVM. */
  private static ProcessHandle mariadbd(Path dir) {
    return ProcessHandle.current().children()
      .filter(p -> p.info().commandLine().map(c -> c.contains("mariadbd") && c.contains("--datadir=" + dir + " "))
        .orElse(false))
      .findFirst().orElseThrow(() -> new AssertionError("no mariadbd child on " + dir));
  }

  private static JsonObject awaitStatus(WebClient client, String id, String status, int seconds) throws Exception {
    JsonObject[] job = {null};
    Eventually.await("job " + id + " to reach " + status, Duration.ofSeconds(seconds), () -> {
      HttpResponse<Buffer> r = client.get("/jobs/" + id).send().await();
      job[0] = r.statusCode() == 200 ? r.bodyAsJsonObject() : job[0];
      return job[0] != null && status.equals(job[0].getString("status"));
    }, () -> String.valueOf(job[0]));
    return job[0];
  }
}
