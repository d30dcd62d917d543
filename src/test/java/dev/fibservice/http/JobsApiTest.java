package dev.fibservice.http;

import dev.fibservice.Eventually;
import dev.fibservice.TestNode;
import dev.fibservice.api.Addresses;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Background jobs against a real MariaDB: lifecycle, results, cancellation, limits, event-bus form. */
class JobsApiTest {

  /** Recursive up to 60, so that a job can run "forever" until cancelled; at most 3 may wait. */
  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("jobs_api", Map.of("fib.maxN.recursive", "60",
    "jobs.maxPending", "3", "jobs.pollMs", "50"));

  private JsonObject submit(String body) throws Exception {
    HttpResponse<Buffer> r = node.call(HttpMethod.POST, "/jobs", body);
    assertEquals(202, r.statusCode(), r.bodyAsString());
    JsonObject job = r.bodyAsJsonObject();
    assertEquals("PENDING", job.getString("status"));
    assertEquals("/jobs/" + job.getString("id"), r.getHeader("Location"));
    return job;
  }

  /** Polls (bounded) until the job reaches the status. */
  private JsonObject awaitStatus(String id, String status) throws Exception {
    JsonObject job = Eventually.poll(Duration.ofSeconds(30), () -> node.call(HttpMethod.GET, "/jobs/" + id, null)
      .bodyAsJsonObject(), j -> status.equals(j.getString("status")));
    if (!status.equals(job.getString("status"))) {
      throw new AssertionError("job " + id + " never reached " + status + ": " + job);
    }
    return job;
  }

  @Test
  void bigResultIsStoredAndStreamedBackIntact() throws Exception {
    JsonObject job = submit("{\"n\":200000,\"algorithm\":\"iterative\"}");
    JsonObject done = awaitStatus(job.getString("id"), "DONE");
    assertEquals(41798, done.getInteger("digits"));
    assertNotNull(done.getString("createdAt"));
    assertNotNull(done.getString("finishedAt"));
    HttpResponse<Buffer> result = node.call(HttpMethod.GET, "/jobs/" + job.getString("id") + "/result", null);
    assertEquals(200, result.statusCode());
    assertTrue(result.getHeader("content-type").startsWith("text/plain"));
    String expected = Fibonacci.compute(Algorithm.DOUBLING, 200000, () -> false).toString() + "\n";
    assertEquals(expected.length(), result.body().length());
    assertTrue(expected.equals(result.bodyAsString()), "the streamed digits differ from F(200000)");
  }

  @Test
  void resultSpanningSeveralChunks() throws Exception {
    // F(6,000,000) has 1,253,926 digits: two chunks of storage
    JsonObject job = submit("{\"n\":6000000}");
    JsonObject done = awaitStatus(job.getString("id"), "DONE");
    assertEquals(1_253_926, done.getInteger("digits"));
    HttpResponse<Buffer> result = node.call(HttpMethod.GET, "/jobs/" + job.getString("id") + "/result", null);
    String expected = Fibonacci.decimal(Fibonacci.compute(Algorithm.DOUBLING, 6_000_000, () -> false), () -> false) + "\n";
    assertTrue(expected.equals(result.bodyAsString()), "the streamed digits differ from F(6000000)");
  }

  @Test
  void cancelStopsARunningJob() throws Exception {
    JsonObject job = submit("{\"n\":60,\"algorithm\":\"recursive\"}");
    String id = job.getString("id");
    awaitStatus(id, "RUNNING");
    assertEquals(409, node.call(HttpMethod.GET, "/jobs/" + id + "/result", null).statusCode());
    HttpResponse<Buffer> cancelled = node.call(HttpMethod.DELETE, "/jobs/" + id, null);
    assertEquals(200, cancelled.statusCode(), cancelled.bodyAsString());
    assertEquals("CANCELLED", cancelled.bodyAsJsonObject().getString("status"));
    assertEquals(409, node.call(HttpMethod.DELETE, "/jobs/" + id, null).statusCode());
    // the job worker is free again: the next job completes (it would wait for hours otherwise)
    awaitStatus(submit("{\"n\":1000}").getString("id"), "DONE");
  }

  @Test
  void jobsNeverTakeTheInteractiveWorkers() throws Exception {
    JsonObject job = submit("{\"n\":60,\"algorithm\":\"recursive\"}");
    awaitStatus(job.getString("id"), "RUNNING");
    JsonObject fib = node.call(HttpMethod.GET, "/fib/35?algorithm=recursive", null).bodyAsJsonObject();
    assertEquals("9227465", fib.getString("value"));
    assertEquals(200, node.call(HttpMethod.DELETE, "/jobs/" + job.getString("id"), null).statusCode());
  }

  @Test
  void validationAndMissing() throws Exception {
    assertEquals(400, node.call(HttpMethod.POST, "/jobs", "{\"n\":-1}").statusCode());
    assertTrue(node.call(HttpMethod.POST, "/jobs", "{\"n\":10000001}").bodyAsJsonObject().getString("error")
      .contains("above the limit of algorithm doubling"));
    assertEquals(400, node.call(HttpMethod.POST, "/jobs", "{\"n\":\"abc\"}").statusCode());
    assertEquals(400, node.call(HttpMethod.POST, "/jobs", "{\"n\":5,\"algorithm\":\"magic\"}").statusCode());
    assertEquals(400, node.call(HttpMethod.POST, "/jobs", "not json").statusCode());
    assertEquals(400, node.call(HttpMethod.POST, "/jobs", "").statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/jobs/0123456789abcdef0123456789abcdef", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/jobs/../../etc", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/jobs/nope/result", null).statusCode());
    assertEquals(404, node.call(HttpMethod.DELETE, "/jobs/nope", null).statusCode());
  }

  @Test
  void pendingJobsAreCapped() throws Exception {
    // the one job worker is held by a job that runs until cancelled; then 3 may wait, the 4th is refused
    JsonObject blocker = submit("{\"n\":60,\"algorithm\":\"recursive\"}");
    awaitStatus(blocker.getString("id"), "RUNNING");
    JsonObject[] waiting = {submit("{\"n\":10}"), submit("{\"n\":11}"), submit("{\"n\":12}")};
    HttpResponse<Buffer> refused = node.call(HttpMethod.POST, "/jobs", "{\"n\":13}");
    assertEquals(503, refused.statusCode());
    assertEquals("1", refused.getHeader("Retry-After"));
    assertTrue(refused.bodyAsJsonObject().getString("error").contains("jobs.maxPending"));
    assertEquals(200, node.call(HttpMethod.DELETE, "/jobs/" + blocker.getString("id"), null).statusCode());
    for (JsonObject job : waiting) {
      awaitStatus(job.getString("id"), "DONE");
    }
  }

  @Test
  void eventBusForm() throws Exception {
    var bus = node.service().vertx().eventBus();
    JsonObject job = bus.<JsonObject>request(Addresses.JOBS_SUBMIT, new JsonObject().put("n", 500)).await().body();
    assertEquals("PENDING", job.getString("status"));
    JsonObject status = Eventually.poll(Duration.ofSeconds(30), () -> bus.<JsonObject>request(Addresses.JOBS_STATUS,
      new JsonObject().put("id", job.getString("id"))).await().body(), s -> "DONE".equals(s.getString("status")));
    assertEquals("DONE", status.getString("status"));
    assertEquals(105, status.getInteger("digits"));
    ReplyException bad = assertThrows(ReplyException.class, () -> bus.request(Addresses.JOBS_SUBMIT, "nonsense").await());
    assertEquals(400, bad.failureCode());
    ReplyException missing = assertThrows(ReplyException.class,
      () -> bus.request(Addresses.JOBS_STATUS, new JsonObject().put("id", "x")).await());
    assertEquals(404, missing.failureCode());
  }
}
