package dev.fibservice.jobs;

import dev.fibservice.Eventually;
import dev.fibservice.TestNode;
import dev.fibservice.db.TestDatabase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention against a real MariaDB: DONE jobs go jobs.keepDoneMs after they finished, with their chunks and attempts,
 * in deletes of at most jobs.deleteBatch jobs; a CANCELLED one (a dead letter) is kept for jobs.keepFailedMs, longer;
 * a job that waits is never deleted; the Idempotency-Key window follows the retention down.
 */
class JobRetentionTest {

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("jobs_retention", Map.of("jobs.pollMs", "50",
    "jobs.keepDoneMs", "1000", "jobs.keepFailedMs", "4000", "jobs.deleteBatch", "2"));

  private static long count(MySQLConnection sql, String query, String id) {
    return sql.preparedQuery(query).execute(Tuple.of(id)).await().iterator().next().getLong(0);
  }

  @Test
  void finishedJobsAreDeletedAfterTheirKeepAndWaitingOnesNever() throws Exception {
    MySQLConnection sql = MySQLConnection.connect(node.service().vertx(), new MySQLConnectOptions()
      .setHost("127.0.0.1").setPort(TestDatabase.port()).setUser("root").setPassword(TestDatabase.password())
      .setDatabase("jobs_retention")).await();
    try {
      List<String> done = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> r = node.client().post("/jobs").putHeader("Content-Type", "application/json")
          .putHeader("Idempotency-Key", "keep-" + i).sendBuffer(new JsonObject().put("n", 800 + i).toBuffer()).await();
        assertEquals(202, r.statusCode(), r.bodyAsString());
        done.add(r.bodyAsJsonObject().getString("id"));
      }
      String waiting = node.call(HttpMethod.POST, "/jobs", "{\"n\":900,\"delayMs\":3600000}").bodyAsJsonObject()
        .getString("id");
      String cancelled = node.call(HttpMethod.POST, "/jobs", "{\"n\":901,\"delayMs\":3600000}").bodyAsJsonObject()
        .getString("id");
      assertEquals(200, node.call(HttpMethod.DELETE, "/jobs/" + cancelled, null).statusCode());
      String id0 = done.get(0);
      Eventually.within(Duration.ofSeconds(60), () -> "DONE".equals(node.get("/jobs/" + id0).bodyAsJsonObject()
        .getString("status")));
      assertTrue(count(sql, "SELECT COUNT(*) FROM job_chunks WHERE job_id = ?", id0) > 0);
      assertTrue(count(sql, "SELECT COUNT(*) FROM job_attempts WHERE job_id = ?", id0) > 0);
      // every DONE one goes, a second after it finished, with its chunks and attempts
      Eventually.within(Duration.ofSeconds(60), () -> done.stream().allMatch(id -> count(sql,
        "SELECT COUNT(*) FROM jobs WHERE id = ?", id) == 0));
      for (String id : done) {
        assertEquals(404, node.get("/jobs/" + id).statusCode(), id);
        assertEquals(0, count(sql, "SELECT COUNT(*) FROM job_chunks WHERE job_id = ?", id), id);
        assertEquals(0, count(sql, "SELECT COUNT(*) FROM job_attempts WHERE job_id = ?", id), id);
      }
      // the key names no job any more (its window followed jobs.keepDoneMs down): a new job
      HttpResponse<Buffer> again = node.client().post("/jobs").putHeader("Content-Type", "application/json")
        .putHeader("Idempotency-Key", "keep-0").sendBuffer(new JsonObject().put("n", 800).toBuffer()).await();
      assertEquals(202, again.statusCode(), again.bodyAsString());
      // the dead letter is kept longer (4 s), then goes too; the waiting job stays
      Eventually.within(Duration.ofSeconds(60), () -> count(sql, "SELECT COUNT(*) FROM jobs WHERE id = ?",
        cancelled) == 0);
      assertEquals(404, node.get("/jobs/" + cancelled).statusCode());
      assertEquals("SCHEDULED", node.get("/jobs/" + waiting).bodyAsJsonObject().getString("status"));
    } finally {
      sql.close().await();
    }
  }
}
