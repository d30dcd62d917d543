package dev.fibservice.jobs;

import ch.qos.logback.classic.Level;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.db.CapturedLog;
import dev.fibservice.db.DbTestNodes;
import dev.fibservice.db.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job runner when the database stops answering it (nothing waits for good, nothing is marked FAILED for it) and when
 * it stops (its jobs are given back at once, for another runner).
 */
class JobRunnerTest {

  /**
   * A runner that stops gives the job it computes back at once: PENDING right after the stop, not RUNNING until its
   * lease (here 10 minutes) runs out; another runner takes it and finishes it, a second attempt, well within the lease.
   */
  @Test
  void aStoppingRunnerGivesItsJobBackAndAnotherFinishesItWithoutWaitingForTheLease() throws Exception {
    Vertx vertx = Vertx.vertx();
    FibService first = null;
    FibService second = null;
    MySQLConnectOptions options = new MySQLConnectOptions().setHost("127.0.0.1").setPort(TestDatabase.port())
      .setUser("root").setPassword(TestDatabase.password()).setDatabase("runner_give_back");
    Map<String, String> runner = Map.of("jobs.leaseMs", "600000", "fib.warmup", "false");
    try (CapturedLog log = new CapturedLog(JobRunner.class)) {
      first = DbTestNodes.start("runner_give_back", runner);
      WebClient client = TestNodes.client(vertx, first);
      MySQLConnection sql = MySQLConnection.connect(vertx, options).await();
      try {
        // F(42) by recursion: seconds of work, so that the stop comes while it runs
        String id = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 42).put("algorithm", "recursive"))
          .await().bodyAsJsonObject().getString("id");
        Row running = Eventually.poll(Duration.ofSeconds(30), () -> job(sql, id), row -> "RUNNING".equals(row.getString(0)));
        assertEquals("RUNNING", running.getString(0), log.text());
        FibService stopping = first;
        first = null;
        stopping.stop();
        Row given = job(sql, id);
        assertEquals("PENDING", given.getString(0), "right after the stop: " + log.text());
        assertNull(given.getString(1), "no owner");
        assertEquals(1, given.getInteger(2));
        assertEquals(1, log.count(Level.INFO, "job runner stopping: gave 1 of 1 running jobs back"), log.text());
        second = DbTestNodes.start("runner_give_back", runner);
        WebClient other = TestNodes.client(vertx, second);
        String status = Eventually.poll(Duration.ofSeconds(120), () -> other.get("/jobs/" + id).send().await()
          .bodyAsJsonObject().getString("status"), "DONE"::equals);
        assertEquals("DONE", status, log.text());
        Row done = job(sql, id);
        assertEquals(2, done.getInteger(2), "run again: a second attempt");
        assertNotEquals(running.getString(1), done.getString(1), "by another runner");
        assertEquals("267914296\n", other.get("/jobs/" + id + "/result").send().await().bodyAsString());
      } finally {
        sql.close().await();
      }
    } finally {
      vertx.close().await();
      TestNodes.stop(first);
      TestNodes.stop(second);
    }
  }

  /** The job's status, owner and attempts, read from its table. */
  private static Row job(MySQLConnection sql, String id) {
    return sql.preparedQuery("SELECT status, owner, attempts FROM jobs WHERE id = ?").execute(Tuple.of(id)).await()
      .iterator().next();
  }

  @Test
  void aStoreTheDatabaseDoesNotAnswerIsGivenUpAndTheJobRunsAgain() throws Exception {
    Vertx vertx = Vertx.vertx();
    FibService node = null;
    MySQLConnectOptions options = new MySQLConnectOptions().setHost("127.0.0.1").setPort(TestDatabase.port())
      .setUser("root").setPassword(TestDatabase.password()).setDatabase("runner_stall");
    try (CapturedLog log = new CapturedLog(JobRunner.class)) {
      node = DbTestNodes.start("runner_stall", Map.of("jobs.leaseMs", "500", "jobs.pollMs", "100",
        "mysql.queryTimeoutMs", "300"));
      WebClient client = TestNodes.client(vertx, node);
      MySQLConnection locker = MySQLConnection.connect(vertx, options).await();
      MySQLConnection reader = MySQLConnection.connect(vertx, options).await();
      try {
        // every write of digits now waits, as on a server that stalls
        locker.query("LOCK TABLES job_chunks WRITE").execute().await();
        String id = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 1000)).await().bodyAsJsonObject()
          .getString("id");
        Row job = Eventually.poll(Duration.ofSeconds(30), () -> {
          Row row = reader.preparedQuery("SELECT status, attempts FROM jobs WHERE id = ?").execute(Tuple.of(id)).await()
            .iterator().next();
          assertNotEquals("FAILED", row.getString(0), "a database that did not answer is no failure of the job");
          return row;
        }, row -> row.getInteger(1) >= 2);
        // the first run gave the store up, its lease ran out, and the job was taken again: not RUNNING for good
        assertTrue(job.getInteger(1) >= 2, "attempts: " + job.getInteger(1) + "\n" + log.text());
        assertTrue(log.count(Level.WARN, "job " + id + ": could not record its outcome (the database is unavailable (did"
          + " not answer in time)") >= 1, log.text());

        locker.query("UNLOCK TABLES").execute().await();
        String status = Eventually.poll(Duration.ofSeconds(30),
          () -> client.get("/jobs/" + id).send().await().bodyAsJsonObject().getString("status"), "DONE"::equals);
        assertEquals("DONE", status, log.text());
        String digits = client.get("/jobs/" + id + "/result").send().await().bodyAsString();
        assertEquals("434665576869374564356885276750406258025646605173717804024817290895365554179490518904"
          + "038798400792551692959225930803226347752096896232398733224711616429964409065331879382989696499285160037044761"
          + "37795166849228875\n", digits);
      } finally {
        reader.close().await();
        locker.close().await();
      }
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
    }
  }
}
