package dev.fibservice.jobs;

import dev.fibservice.Eventually;
import dev.fibservice.TestNode;
import dev.fibservice.db.TestDatabase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue's semantics against a real MariaDB and a real runner (one job worker): priorities, delays, timeouts retried
 * with backoff until out of attempts, dead letters re-run on request, lost attempts, bad input failing at once,
 * idempotent submits, batches, and the events that say it all. A job that runs until cancelled (F(60) by recursion)
 * holds the one worker while the others queue up behind it.
 */
class JobQueueTest {

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("jobs_queue", Map.of("fib.maxN.recursive", "60",
    "jobs.maxPending", "50", "jobs.pollMs", "50", "jobs.backoffMs", "200", "jobs.maxBackoffMs", "400",
    "jobs.idempotencyMs", "3000", "jobs.maxBatch", "5"));

  private static MySQLConnection sql;

  @BeforeAll
  static void connect() throws Exception {
    sql = MySQLConnection.connect(node.service().vertx(), new MySQLConnectOptions().setHost("127.0.0.1")
      .setPort(TestDatabase.port()).setUser("root").setPassword(TestDatabase.password()).setDatabase("jobs_queue"))
      .await();
  }

  @AfterAll
  static void close() {
    sql.close().await();
  }

  private static JsonObject submit(JsonObject body) throws Exception {
    HttpResponse<Buffer> r = node.call(HttpMethod.POST, "/jobs", body.encode());
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  private static JsonObject job(String id) throws Exception {
    return node.call(HttpMethod.GET, "/jobs/" + id, null).bodyAsJsonObject();
  }

  private static JsonObject awaitStatus(String id, String status) throws Exception {
    JsonObject job = Eventually.poll(Duration.ofSeconds(60), () -> job(id), j -> status.equals(j.getString("status")));
    assertEquals(status, job.getString("status"), job.encode());
    return job;
  }

  /** The one job worker, held by a job that runs until cancelled, once it runs. */
  private static String block() throws Exception {
    String id = submit(new JsonObject().put("n", 60).put("algorithm", "recursive").put("priority", 9))
      .getString("id");
    awaitStatus(id, "RUNNING");
    return id;
  }

  private static void unblock(String id) throws Exception {
    assertEquals(200, node.call(HttpMethod.DELETE, "/jobs/" + id, null).statusCode());
  }

  private static JsonArray history(String id) throws Exception {
    return node.call(HttpMethod.GET, "/jobs/" + id + "/attempts", null).bodyAsJsonObject().getJsonArray("history");
  }

  /** Every event of every job, as the operators' address carries them, while the test runs. */
  private static final class Events implements AutoCloseable {
    final List<JsonObject> seen = Collections.synchronizedList(new ArrayList<>());
    final MessageConsumer<JsonObject> consumer;

    Events(String address) {
      consumer = node.service().vertx().eventBus().consumer(address, m -> seen.add(m.body()));
      consumer.completion().await();
    }

    List<String> of(String status) {
      synchronized (seen) {
        return seen.stream().filter(e -> status.equals(e.getString("status")) && !e.containsKey("progress"))
          .map(e -> e.getString("id")).toList();
      }
    }

    @Override
    public void close() {
      consumer.unregister().await();
    }
  }

  @Test
  void aHigherPriorityStartsFirstAndWithinOnePriorityTheOldest() throws Exception {
    try (Events events = new Events("jobs.events")) {
      String blocker = block();
      String a = submit(new JsonObject().put("n", 11).put("priority", 1)).getString("id");
      String b = submit(new JsonObject().put("n", 12).put("priority", 9)).getString("id");
      String c = submit(new JsonObject().put("n", 13)).getString("id");
      String d = submit(new JsonObject().put("n", 14).put("priority", 9)).getString("id");
      String e = submit(new JsonObject().put("n", 15).put("priority", 1)).getString("id");
      assertEquals(5, job(c).getInteger("priority"), "the default priority");
      // a long job's progress, from the engine's own steps, comes while it runs (from its first second on)
      Eventually.within(Duration.ofSeconds(30), () -> !progress(events, blocker).isEmpty());
      List<Double> progress = progress(events, blocker);
      assertFalse(progress.isEmpty(), "no progress of F(60) by recursion: " + events.seen);
      assertTrue(progress.stream().allMatch(p -> p > 0 && p < 1), progress.toString());
      unblock(blocker);
      for (String id : List.of(a, b, c, d, e)) {
        awaitStatus(id, "DONE");
      }
      List<String> started = new ArrayList<>(events.of("RUNNING"));
      started.remove(blocker);
      assertEquals(List.of(b, d, c, a, e), started, "the order the runner took them");
      Eventually.within(Duration.ofSeconds(10), () -> events.of("DONE").containsAll(List.of(a, b, c, d, e)));
      assertTrue(events.of("DONE").containsAll(List.of(a, b, c, d, e)), events.seen.toString());
      assertTrue(events.of("CANCELLED").contains(blocker), events.seen.toString());
    }
  }

  private static List<Double> progress(Events events, String id) {
    synchronized (events.seen) {
      return events.seen.stream().filter(ev -> id.equals(ev.getString("id")) && ev.containsKey("progress"))
        .map(ev -> ev.getDouble("progress")).toList();
    }
  }

  @Test
  void aDelayedJobWaitsForItsTimeAndARunAtPastRunsAtOnce() throws Exception {
    JsonObject delayed = submit(new JsonObject().put("n", 20).put("delayMs", 1500));
    assertEquals("SCHEDULED", delayed.getString("status"));
    String id = delayed.getString("id");
    assertEquals("SCHEDULED", job(id).getString("status"));
    awaitStatus(id, "DONE");
    Row times = sql.preparedQuery("SELECT j.created_at, j.run_at, a.started_at FROM jobs j JOIN job_attempts a"
      + " ON a.job_id = j.id WHERE j.id = ?").execute(Tuple.of(id)).await().iterator().next();
    LocalDateTime runAt = times.getLocalDateTime(1);
    assertFalse(times.getLocalDateTime(2).isBefore(runAt), "started before its time: " + times.deepToString());
    assertFalse(runAt.isBefore(times.getLocalDateTime(0).plusNanos(1_499_000_000L)), times.deepToString());

    JsonObject past = submit(new JsonObject().put("n", 21).put("runAt", "2020-01-01T00:00:00Z"));
    assertEquals("PENDING", past.getString("status"));
    awaitStatus(past.getString("id"), "DONE");

    // a scheduled job cancelled never runs; retried, it runs at once
    String later = submit(new JsonObject().put("n", 22).put("delayMs", 600_000)).getString("id");
    HttpResponse<Buffer> cancelled = node.call(HttpMethod.DELETE, "/jobs/" + later, null);
    assertEquals("CANCELLED", cancelled.bodyAsJsonObject().getString("status"), cancelled.bodyAsString());
    assertEquals(0, job(later).getInteger("attempts"));
    HttpResponse<Buffer> retried = node.call(HttpMethod.POST, "/jobs/" + later + "/retry", null);
    assertEquals(200, retried.statusCode(), retried.bodyAsString());
    assertEquals("PENDING", retried.bodyAsJsonObject().getString("status"));
    assertEquals("17711", node.get("/jobs/" + awaitStatus(later, "DONE").getString("id") + "/result")
      .bodyAsString().trim());
  }

  @Test
  void everyNewFieldHasItsError() throws Exception {
    Map<String, String> bad = Map.ofEntries(
      Map.entry("{\"n\":5,\"priority\":10}", "priority must be from 0 to 9, got 10"),
      Map.entry("{\"n\":5,\"priority\":\"high\"}", "priority must be a JSON integer from 0 to 9, got 'high'"),
      Map.entry("{\"n\":5,\"delayMs\":-1}", "delayMs must be from 0 to 604800000, got -1"),
      Map.entry("{\"n\":5,\"delayMs\":604800001}", "delayMs must be from 0 to 604800000 (jobs.maxDelayMs), got 604800001"),
      Map.entry("{\"n\":5,\"runAt\":\"tomorrow\"}", "runAt must be an ISO-8601 instant in UTC"),
      Map.entry("{\"n\":5,\"runAt\":\"2999-01-01T00:00:00Z\"}", "(jobs.maxDelayMs)"),
      Map.entry("{\"n\":5,\"runAt\":\"2030-01-01T00:00:00Z\",\"delayMs\":5}", "give delayMs or runAt, not both"),
      Map.entry("{\"n\":5,\"timeoutMs\":0}", "timeoutMs must be from 1 to 600000, got 0"),
      Map.entry("{\"n\":5,\"timeoutMs\":600001}", "(jobs.timeoutMs)"),
      Map.entry("{\"n\":5,\"maxAttempts\":0}", "maxAttempts must be from 1 to 20, got 0"),
      Map.entry("{\"n\":5,\"maxAttempts\":21}", "maxAttempts must be from 1 to 20 (jobs.maxAttempts), got 21"),
      Map.entry("{\"n\":-1,\"priority\":3}", "n must not be negative"));
    for (Map.Entry<String, String> e : bad.entrySet()) {
      HttpResponse<Buffer> r = node.call(HttpMethod.POST, "/jobs", e.getKey());
      assertEquals(400, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertTrue(r.bodyAsJsonObject().getString("error").contains(e.getValue()), e.getKey() + ": " + r.bodyAsString());
    }
    assertEquals(404, node.call(HttpMethod.POST, "/jobs/0123456789abcdef0123456789abcdef/retry", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/jobs/nope/attempts", null).statusCode());
  }

  @Test
  void aTimeoutIsRetriedWithBackoffUntilOutOfAttemptsThenTheDeadLetterRunsAgainOnRequest() throws Exception {
    try (Events events = new Events("jobs.events")) {
      String id = submit(new JsonObject().put("n", 50).put("algorithm", "recursive").put("timeoutMs", 50)
        .put("maxAttempts", 3)).getString("id");
      JsonObject failed = awaitStatus(id, "FAILED");
      assertEquals(3, failed.getInteger("attempts"));
      assertEquals(3, failed.getInteger("failures"));
      assertTrue(failed.getString("error").startsWith("out of attempts (3): the last one timeout: past its deadline of"
        + " 50 ms"), failed.getString("error"));
      JsonArray history = history(id);
      assertEquals(3, history.size(), history.encode());
      for (int i = 0; i < 3; i++) {
        assertEquals("TIMEOUT", history.getJsonObject(i).getString("outcome"), history.encode());
        assertEquals(i + 1, history.getJsonObject(i).getInteger("attempt"));
      }
      // each next attempt waited out its backoff: jobs.backoffMs = 200, at least half of it with the jitter
      for (int i = 1; i < 3; i++) {
        long gap = java.time.Instant.parse(history.getJsonObject(i).getString("startedAt")).toEpochMilli()
          - java.time.Instant.parse(history.getJsonObject(i - 1).getString("endedAt")).toEpochMilli();
        assertTrue(gap >= 100, "attempt " + (i + 1) + " started " + gap + " ms after the one before: " + history);
      }
      assertEquals(2, events.of("RETRY_WAIT").stream().filter(id::equals).count(), events.seen.toString());
      assertTrue(events.of("FAILED").contains(id));

      assertEquals(409, node.call(HttpMethod.DELETE, "/jobs/" + id, null).statusCode());
      HttpResponse<Buffer> retried = node.call(HttpMethod.POST, "/jobs/" + id + "/retry", null);
      assertEquals(200, retried.statusCode(), retried.bodyAsString());
      assertEquals("PENDING", retried.bodyAsJsonObject().getString("status"));
      assertEquals(0, retried.bodyAsJsonObject().getInteger("failures"), "a new series");
      JsonObject again = awaitStatus(id, "FAILED");
      assertEquals(6, again.getInteger("attempts"));
      assertEquals(6, history(id).size(), "the history is kept: " + history(id));
      HttpResponse<Buffer> notFailed = node.call(HttpMethod.POST, "/jobs/" + submitDone() + "/retry", null);
      assertEquals(409, notFailed.statusCode(), notFailed.bodyAsString());
    }
  }

  private static String submitDone() throws Exception {
    String id = submit(new JsonObject().put("n", 30)).getString("id");
    awaitStatus(id, "DONE");
    return id;
  }

  @Test
  void aJobThatCannotBeComputedFailsAtOnceWithoutRetries() throws Exception {
    // no submit makes such a job (n is checked first); a row from elsewhere can: recursion is exact to n = 92 only
    String id = "badbadbadbadbadbadbadbadbadbad01";
    sql.preparedQuery("INSERT INTO jobs (id, n, algorithm, status, created_at, max_attempts) VALUES (?, 93,"
      + " 'recursive', 'PENDING', UTC_TIMESTAMP(3), 5)").execute(Tuple.of(id)).await();
    node.service().vertx().eventBus().publish("jobs.wakeup", id);
    JsonObject failed = awaitStatus(id, "FAILED");
    assertEquals(1, failed.getInteger("attempts"), failed.encode());
    assertEquals(0, failed.getInteger("failures"), "no retry: " + failed.encode());
    assertEquals("FAILED", history(id).getJsonObject(0).getString("outcome"));
  }

  @Test
  void anAttemptWhoseLeaseRanOutIsLostAndRetried() throws Exception {
    String id = "105710571057105710571057105710aa";
    // a runner took it and died: RUNNING, its lease over, its attempt open
    sql.preparedQuery("INSERT INTO jobs (id, n, algorithm, status, created_at, owner, attempts, started_at,"
      + " lease_until) VALUES (?, 40, 'doubling', 'RUNNING', UTC_TIMESTAMP(3), 'gone/1', 1, UTC_TIMESTAMP(3),"
      + " UTC_TIMESTAMP(3) - INTERVAL 1 SECOND)").execute(Tuple.of(id)).await();
    sql.preparedQuery("INSERT INTO job_attempts (job_id, attempt, owner, started_at) VALUES (?, 1, 'gone/1',"
      + " UTC_TIMESTAMP(3))").execute(Tuple.of(id)).await();
    JsonObject done = awaitStatus(id, "DONE");
    assertEquals(2, done.getInteger("attempts"));
    assertEquals(1, done.getInteger("failures"));
    JsonArray history = history(id);
    assertEquals("LOST", history.getJsonObject(0).getString("outcome"), history.encode());
    assertTrue(history.getJsonObject(0).getString("error").contains("its runner gone/1 stopped renewing its lease"));
    assertEquals("DONE", history.getJsonObject(1).getString("outcome"), history.encode());
    assertNotEquals("gone/1", history.getJsonObject(1).getString("runner"));
  }

  @Test
  void anIdempotencyKeyMakesOneJobPerRequestWithinItsWindow() throws Exception {
    JsonObject body = new JsonObject().put("n", 77).put("priority", 3);
    HttpResponse<Buffer> first = keyed("order-42", body);
    assertEquals(202, first.statusCode(), first.bodyAsString());
    String id = first.bodyAsJsonObject().getString("id");
    // the same request, fields in another order and the default spelled out: the same job, 200
    HttpResponse<Buffer> again = keyed("order-42", new JsonObject().put("priority", 3).put("algorithm", "doubling")
      .put("n", 77));
    assertEquals(200, again.statusCode(), again.bodyAsString());
    assertEquals(id, again.bodyAsJsonObject().getString("id"));
    assertEquals("/jobs/" + id, again.getHeader("Location"));
    HttpResponse<Buffer> other = keyed("order-42", new JsonObject().put("n", 78).put("priority", 3));
    assertEquals(409, other.statusCode(), other.bodyAsString());
    assertTrue(other.bodyAsJsonObject().getString("error").contains("was sent with another request"));
    assertEquals(400, keyed("with space", body).statusCode());
    assertEquals(400, keyed("k".repeat(201), body).statusCode());
    assertEquals(1L, sql.preparedQuery("SELECT COUNT(*) FROM jobs WHERE n = 77").execute().await().iterator().next()
      .getLong(0));
    // past jobs.idempotencyMs (3 s here) the key makes a new job
    Thread.sleep(3100);
    HttpResponse<Buffer> later = keyed("order-42", body);
    assertEquals(202, later.statusCode(), later.bodyAsString());
    assertNotEquals(id, later.bodyAsJsonObject().getString("id"));
  }

  private static HttpResponse<Buffer> keyed(String key, JsonObject body) throws Exception {
    return node.client().post("/jobs").putHeader("Idempotency-Key", key).putHeader("Content-Type", "application/json")
      .sendBuffer(body.toBuffer()).await();
  }

  @Test
  void aBatchIsDoneWhenAllItsJobsAreAndStreamsTheirResultsAsNdjson() throws Exception {
    HttpResponse<Buffer> made = node.call(HttpMethod.POST, "/jobs/batch", "{\"n\":[10,20,30],\"priority\":7}");
    assertEquals(202, made.statusCode(), made.bodyAsString());
    JsonObject batch = made.bodyAsJsonObject();
    assertEquals("/jobs/batch/" + batch.getString("id"), made.getHeader("Location"));
    assertEquals(3, batch.getJsonArray("jobs").size());
    JsonObject status = Eventually.poll(Duration.ofSeconds(60), () -> node.get(made.getHeader("Location"))
      .bodyAsJsonObject(), b -> "DONE".equals(b.getString("status")));
    assertEquals("DONE", status.getString("status"), status.encode());
    assertEquals(3, status.getJsonObject("counts").getInteger("DONE"));
    assertEquals(7, status.getJsonArray("jobs").getJsonObject(0).getInteger("priority"));
    HttpResponse<Buffer> results = node.get(made.getHeader("Location") + "/results");
    assertEquals("application/x-ndjson", results.getHeader("Content-Type"));
    String[] lines = results.bodyAsString().split("\n");
    assertEquals(3, lines.length, results.bodyAsString());
    String[] values = {"55", "6765", "832040"};
    for (int i = 0; i < 3; i++) {
      JsonObject line = new JsonObject(lines[i]);
      assertEquals(batch.getJsonArray("jobs").getString(i), line.getString("id"));
      assertEquals("DONE", line.getString("status"));
      assertEquals(values[i], line.getString("value"));
    }

    HttpResponse<Buffer> tooMany = node.call(HttpMethod.POST, "/jobs/batch", "{\"n\":[1,2,3,4,5,6]}");
    assertEquals(400, tooMany.statusCode());
    assertTrue(tooMany.bodyAsString().contains("jobs.maxBatch"), tooMany.bodyAsString());
    HttpResponse<Buffer> oneBad = node.call(HttpMethod.POST, "/jobs/batch", "{\"n\":[1,-2]}");
    assertEquals(400, oneBad.statusCode());
    assertTrue(oneBad.bodyAsJsonObject().getString("error").startsWith("job 1 of the batch: n must not be negative"));
    assertEquals(400, node.call(HttpMethod.POST, "/jobs/batch", "{\"n\":5}").statusCode());
    assertEquals(404, node.get("/jobs/batch/0123456789abcdef0123456789abcdef").statusCode());
  }

  @Test
  void aBatchThatDoesNotFitIsRefusedWhole() throws Exception {
    String blocker = block();
    try {
      long before = sql.query("SELECT COUNT(*) FROM jobs").execute().await().iterator().next().getLong(0);
      List<String> waiting = new ArrayList<>();
      // 50 may wait: 47 single ones, then a batch of 5 does not fit and none of it is stored
      for (int i = 0; i < 47; i++) {
        waiting.add(submit(new JsonObject().put("n", 100 + i).put("delayMs", 600_000)).getString("id"));
      }
      HttpResponse<Buffer> refused = node.call(HttpMethod.POST, "/jobs/batch", "{\"n\":[1,2,3,4,5]}");
      assertEquals(503, refused.statusCode(), refused.bodyAsString());
      assertTrue(refused.bodyAsString().contains("jobs.maxPending"), refused.bodyAsString());
      assertEquals(before + 47, sql.query("SELECT COUNT(*) FROM jobs").execute().await().iterator().next().getLong(0));
      for (String id : waiting) {
        node.call(HttpMethod.DELETE, "/jobs/" + id, null);
      }
    } finally {
      unblock(blocker);
    }
  }

  /** A statement of 0.2.0's, as its contract fixture recorded it. */
  private static String previousSql(String name) throws Exception {
    try (var in = JobQueueTest.class.getResourceAsStream("/contracts/0.2.0/sql.json")) {
      JsonArray all = new JsonArray(Buffer.buffer(in.readAllBytes()));
      for (int i = 0; i < all.size(); i++) {
        if (name.equals(all.getJsonObject(i).getString("name"))) {
          return all.getJsonObject(i).getString("sql");
        }
      }
    }
    throw new AssertionError("no statement '" + name + "' in 0.2.0's sql.json");
  }

  @Test
  void thePreviousReleasesClaimNeverTakesAJobThatWaitsForItsTimeOrItsNextAttempt() throws Exception {
    // a delayed job, and a failed one waiting out its backoff, as this release stores them
    String scheduled = submit(new JsonObject().put("n", 400).put("delayMs", 3_600_000)).getString("id");
    String retrying = "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e02";
    sql.preparedQuery("INSERT INTO jobs (id, n, algorithm, status, created_at, attempts, failures, run_at) VALUES"
      + " (?, 401, 'doubling', 'RETRY_WAIT', UTC_TIMESTAMP(3), 1, 1, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)")
      .execute(Tuple.of(retrying)).await();
    try {
      List<String> candidates = new ArrayList<>();
      sql.preparedQuery(previousSql("job candidates")).execute(Tuple.of(10_000)).await()
        .forEach(row -> candidates.add(row.getString(0)));
      assertFalse(candidates.contains(scheduled), "0.2.0 would start a delayed job early: " + candidates);
      assertFalse(candidates.contains(retrying), "0.2.0 would skip a job's backoff: " + candidates);
      for (String id : List.of(scheduled, retrying)) {
        assertEquals(0, sql.preparedQuery(previousSql("job claim")).execute(Tuple.of("old-runner/1", 60_000_000L, id))
          .await().rowCount(), "0.2.0's claim took " + id);
      }
      // and 0.2.0's submit still works on this schema: a plain PENDING job of the default priority, run here
      String old = "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e03";
      assertEquals(1, sql.preparedQuery(previousSql("job insert")).execute(Tuple.of(old, 25, "doubling", 100)).await()
        .rowCount());
      node.service().vertx().eventBus().publish("jobs.wakeup", old);
      JsonObject done = awaitStatus(old, "DONE");
      assertEquals(5, done.getInteger("priority"), done.encode());
    } finally {
      node.call(HttpMethod.DELETE, "/jobs/" + scheduled, null);
      sql.preparedQuery("DELETE FROM jobs WHERE id = ?").execute(Tuple.of(retrying)).await();
    }
  }

  @Test
  void theBusTakesTheSameCallsAndAKeyInAHeader() throws Exception {
    var bus = node.service().vertx().eventBus();
    var headers = new io.vertx.core.eventbus.DeliveryOptions().addHeader("idempotency-key", "bus-1");
    JsonObject first = bus.<JsonObject>request("jobs.submit", new JsonObject().put("n", 90).put("delayMs", 600_000),
      headers).await().body();
    assertEquals("SCHEDULED", first.getString("status"));
    JsonObject same = bus.<JsonObject>request("jobs.submit", new JsonObject().put("n", 90).put("delayMs", 600_000),
      headers).await().body();
    assertEquals(first.getString("id"), same.getString("id"));
    JsonObject cancelled = bus.<JsonObject>request("jobs.cancel", new JsonObject().put("id", first.getString("id")))
      .await().body();
    assertEquals("CANCELLED", cancelled.getString("status"));
    JsonObject retried = bus.<JsonObject>request("jobs.retry", new JsonObject().put("id", first.getString("id")))
      .await().body();
    assertEquals("PENDING", retried.getString("status"));
    awaitStatus(first.getString("id"), "DONE");
    assertNull(job(first.getString("id")).getString("error"));
  }
}
