package dev.fibservice.jobs;

import dev.fibservice.Eventually;
import dev.fibservice.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operators' jobs on the ops port, against a real MariaDB: pages filtered by status and priority whose cursor is
 * stable under inserts, the statistics, every job's events as Server-Sent Events, cancel and retry, the dashboard
 * page; and none of it on the public port.
 */
class OpsJobsTest {

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("jobs_ops", Map.of("ops.enabled", "true", "ops.port", "0",
    "jobs.maxPending", "100", "jobs.pollMs", "50", "jobs.maxPageSize", "10", "jobs.workers", "1"));

  private static WebClient ops() {
    return WebClient.create(node.clientVertx(), new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(node.service().opsPort()));
  }

  private static JsonObject submit(JsonObject body) throws Exception {
    HttpResponse<Buffer> r = node.call(HttpMethod.POST, "/jobs", body.encode());
    assertEquals(202, r.statusCode(), r.bodyAsString());
    return r.bodyAsJsonObject();
  }

  @Test
  void pagesAreFilteredAndTheirCursorIsStableUnderInserts() throws Exception {
    WebClient ops = ops();
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      // far in the future: they stay SCHEDULED while the test reads them
      made.add(submit(new JsonObject().put("n", 500 + i).put("priority", i % 2 == 0 ? 2 : 6)
        .put("delayMs", 3_600_000)).getString("id"));
    }
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      String uri = "/jobs?status=SCHEDULED&priority=2&limit=2" + (cursor == null ? "" : "&cursor=" + cursor);
      HttpResponse<Buffer> page = ops.get(uri).send().await();
      assertEquals(200, page.statusCode(), page.bodyAsString());
      JsonArray jobs = page.bodyAsJsonObject().getJsonArray("jobs");
      assertTrue(jobs.size() <= 2, jobs.encode());
      for (int i = 0; i < jobs.size(); i++) {
        JsonObject job = jobs.getJsonObject(i);
        assertEquals("SCHEDULED", job.getString("status"));
        assertEquals(2, job.getInteger("priority"));
        assertTrue(seen.add(job.getString("id")), "listed twice: " + job.getString("id"));
      }
      if (pages == 0) {
        // inserted between two pages: newer than every page, it never shifts the pages after the first
        submit(new JsonObject().put("n", 600).put("priority", 2).put("delayMs", 3_600_000));
      }
      cursor = page.bodyAsJsonObject().getString("next");
      pages++;
    } while (cursor != null && pages < 10);
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < 7; i += 2) {
      expected.add(made.get(i));
    }
    assertTrue(seen.containsAll(expected), "missed some: " + expected + " vs " + seen);

    Map<String, String> bad = Map.of(
      "/jobs?status=LATE", "status must be one of",
      "/jobs?priority=10", "priority must be from 0 to 9",
      "/jobs?limit=11", "(jobs.maxPageSize)",
      "/jobs?limit=x", "limit must be",
      "/jobs?cursor=nope", "cursor must be the next of a previous page");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      HttpResponse<Buffer> r = ops.get(e.getKey()).send().await();
      assertEquals(400, r.statusCode(), e.getKey() + ": " + r.bodyAsString());
      assertTrue(r.bodyAsJsonObject().getString("error").contains(e.getValue()), e.getKey() + ": " + r.bodyAsString());
    }
    for (String id : made) {
      assertEquals(200, ops.delete("/jobs/" + id).send().await().statusCode());
    }
  }

  @Test
  void statsCountByStatusAndTimeTheRuns() throws Exception {
    String id = submit(new JsonObject().put("n", 1000)).getString("id");
    Eventually.within(Duration.ofSeconds(60), () -> "DONE".equals(node.get("/jobs/" + id).bodyAsJsonObject()
      .getString("status")));
    HttpResponse<Buffer> r = ops().get("/jobs/stats").send().await();
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject stats = r.bodyAsJsonObject();
    for (String status : JobStatus.NAMES) {
      assertNotNull(stats.getJsonObject("counts").getLong(status), status + " missing: " + stats);
    }
    assertTrue(stats.getJsonObject("counts").getLong("DONE") >= 1, stats.encode());
    JsonObject runTime = stats.getJsonObject("runTimeMs");
    assertTrue(runTime.getInteger("runs") >= 1, stats.encode());
    assertTrue(runTime.getDouble("p50") >= 0 && runTime.getDouble("p99") >= runTime.getDouble("p50"), stats.encode());
    assertTrue(stats.containsKey("oldestWaitingMs"), stats.encode());
    // the queue's metrics, on the same port
    String metrics = ops().get("/metrics").send().await().bodyAsString();
    for (String series : List.of("fib_jobs_attempts_total{outcome=\"done\"}", "fib_jobs_run_seconds_count",
      "fib_jobs_dead_letters_total", "fib_jobs_depth{priority=\"5\",status=\"pending\"}",
      "fib_jobs{status=\"scheduled\"}")) {
      assertTrue(metrics.contains(series), series + " missing");
    }
    assertTrue(metrics.matches("(?s).*\nfib_jobs_attempts_total\\{outcome=\"done\"\\} [1-9].*"),
      "no DONE attempt counted");
  }

  @Test
  void theEventsOfEveryJobStreamAsServerSentEventsAndCancelAndRetryWorkThere() throws Exception {
    List<JsonObject> events = Collections.synchronizedList(new ArrayList<>());
    StringBuilder partial = new StringBuilder();
    HttpClientResponse stream = node.clientVertx().createHttpClient().request(new RequestOptions()
        .setHost("127.0.0.1").setPort(node.service().opsPort()).setURI("/jobs/events"))
      .compose(req -> req.send()).await();
    assertEquals(200, stream.statusCode());
    assertEquals("text/event-stream", stream.getHeader("Content-Type"));
    stream.handler(chunk -> {
      synchronized (partial) {
        partial.append(chunk.toString());
        int end;
        while ((end = partial.indexOf("\n\n")) >= 0) {
          String event = partial.substring(0, end);
          partial.delete(0, end + 2);
          if (event.startsWith("data: ")) {
            events.add(new JsonObject(event.substring(6)));
          }
        }
      }
    });
    // the first comment says the consumer is registered: wait for it by a job's events arriving at all
    String later = submit(new JsonObject().put("n", 700).put("delayMs", 3_600_000)).getString("id");
    String now = submit(new JsonObject().put("n", 701)).getString("id");
    Eventually.within(Duration.ofSeconds(60), () -> statuses(events, now).contains("DONE"));
    assertTrue(statuses(events, now).containsAll(List.of("RUNNING", "DONE")), events.toString());
    WebClient ops = ops();
    HttpResponse<Buffer> cancelled = ops.delete("/jobs/" + later).send().await();
    assertEquals(200, cancelled.statusCode(), cancelled.bodyAsString());
    assertEquals("CANCELLED", cancelled.bodyAsJsonObject().getString("status"));
    HttpResponse<Buffer> retried = ops.post("/jobs/" + later + "/retry").send().await();
    assertEquals(200, retried.statusCode(), retried.bodyAsString());
    Eventually.within(Duration.ofSeconds(60), () -> statuses(events, later).contains("DONE"));
    assertEquals(List.of("SCHEDULED", "CANCELLED", "PENDING", "RUNNING", "DONE"), statuses(events, later));
    JsonObject attempts = ops.get("/jobs/" + later + "/attempts").send().await().bodyAsJsonObject();
    assertEquals(1, attempts.getJsonArray("history").size(), attempts.encode());
    stream.request().connection().close().await();
  }

  private static List<String> statuses(List<JsonObject> events, String id) {
    synchronized (events) {
      return events.stream().filter(e -> id.equals(e.getString("id")) && !e.containsKey("progress"))
        .map(e -> e.getString("status")).toList();
    }
  }

  @Test
  void theDashboardIsOnTheOpsPortAndNothingOfThisIsOnThePublicPort() throws Exception {
    HttpResponse<Buffer> page = ops().get("/jobs/dashboard").send().await();
    assertEquals(200, page.statusCode());
    assertTrue(page.getHeader("Content-Type").startsWith("text/html"), page.getHeader("Content-Type"));
    assertTrue(page.bodyAsString().contains("new EventSource('/jobs/events')"));
    for (String uri : List.of("/jobs/stats", "/jobs/events", "/jobs/dashboard")) {
      HttpResponse<Buffer> r = node.get(uri);
      assertEquals(404, r.statusCode(), uri + ": " + r.bodyAsString());
    }
    HttpResponse<Buffer> list = node.get("/jobs?status=DONE");
    assertFalse(list.statusCode() == 200, "the public port lists jobs: " + list.bodyAsString());
    assertNull(list.bodyAsString().contains("\"jobs\"") ? "listed" : null, list.bodyAsString());
  }
}
