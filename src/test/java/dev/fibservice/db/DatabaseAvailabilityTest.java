package dev.fibservice.db;

import ch.qos.logback.classic.Level;
import dev.fibservice.Eventually;
import dev.fibservice.api.Addresses;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import dev.fibservice.jobs.JobRunner;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DB features when the database is off, refuses the credentials, goes down, and comes back. */
class DatabaseAvailabilityTest {

  @Test
  void offMeans503ButTheRestServes() throws Exception {
    FibService node = TestNodes.start(Map.of("mysql.host", "off"));
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultPort(node.httpPort())
        .setDefaultHost("127.0.0.1"));
      for (String uri : new String[] {"/db", "/people", "/people/Han%20Meimei", "/jobs/abc"}) {
        HttpResponse<Buffer> r = client.get(uri).send().await();
        assertEquals(503, r.statusCode(), uri);
        assertTrue(r.bodyAsJsonObject().getString("error").contains("the database features are off"), r.bodyAsString());
      }
      assertEquals(503, client.post("/jobs").sendJsonObject(new JsonObject().put("n", 5)).await()
        .statusCode());
      assertEquals("55", client.get("/fib/10").send().await().bodyAsJsonObject().getString("value"));

      // the event-bus form answers alike: 503 and why, not NO_HANDLERS
      EventBus bus = node.vertx().eventBus();
      for (String address : new String[] {Addresses.JOBS_SUBMIT, Addresses.JOBS_STATUS}) {
        Object body = address.equals(Addresses.JOBS_SUBMIT) ? new JsonObject().put("n", 5)
          : new JsonObject().put("id", "0123456789abcdef0123456789abcdef");
        ReplyException e = assertThrows(ReplyException.class, () -> bus.request(address, body).await(), address);
        assertEquals(ReplyFailure.RECIPIENT_FAILURE, e.failureType(), address);
        assertEquals(503, e.failureCode(), address);
        assertTrue(e.getMessage().contains("the database features are off: mysql.host is off"), e.getMessage());
      }
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
    }
  }

  @Test
  void dataUnderTheTempDirectorySurvivesARestart() throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("fib-db-in-tmp").resolve("data");
    EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, "root");
    Path marker = dir.resolve("marker-of-this-test");
    try {
      java.nio.file.Files.writeString(marker, "kept");
    } finally {
      db.stop();
    }
    db = EmbeddedMariaDb.start(dir, 0, "root");
    try {
      assertTrue(java.nio.file.Files.exists(marker), "the data directory under java.io.tmpdir was wiped at start");
      assertTrue(java.nio.file.Files.exists(dir.resolve("mysql")), "the system tables are there");
    } finally {
      db.stop();
    }
  }

  @Test
  void aPasswordFileThatCannotBeReadTurnsTheDatabaseOff() throws Exception {
    Path missing = Path.of("target", "no-such-password-file-" + System.nanoTime());
    FibService node = TestNodes.start(Map.of("mysql.host", "127.0.0.1", "mysql.port", "1",
      "mysql.passwordFile", missing.toString()));
    try {
      // why the database is off, as /info shows it
      String reason = node.node().database().toJson().getString("reason");
      assertTrue(reason.startsWith("mysql.passwordFile " + missing + " cannot be read (java.nio.file.NoSuchFileException"),
        reason);
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void aWrongPasswordIsSaidOnceAndIn503s() throws Exception {
    String password = "Wr0ng-" + System.nanoTime();
    FibService node = null;
    Vertx vertx = Vertx.vertx();
    try (CapturedLog log = new CapturedLog(Database.class)) {
      Map<String, String> settings = new HashMap<>(TestDatabase.settings("wrongpw"));
      settings.put("mysql.password", password);
      node = TestNodes.start(settings);
      // three attempts (one every 2 s): the refusal is logged at the first, quietly retried after
      Eventually.within(Duration.ofSeconds(30), () -> log.count(Level.DEBUG, "refused the credentials") >= 2);
      assertEquals(2, log.count(Level.DEBUG, "refused the credentials"), log.text());
      assertEquals(1, log.count(Level.WARN, "the database refused the credentials (Access denied for user 'root'@"),
        log.text());
      assertFalse(log.text().contains(password), log.text());

      WebClient client = TestNodes.client(vertx, node);
      for (String uri : new String[] {"/db", "/people", "/jobs/0123456789abcdef0123456789abcdef"}) {
        HttpResponse<Buffer> r = client.get(uri).send().await();
        assertEquals(503, r.statusCode(), uri);
        String error = r.bodyAsJsonObject().getString("error");
        assertTrue(error.startsWith("the database refused the credentials (Access denied for user 'root'@'127.0.0.1'"
          + " (using password: YES), error 1045): check mysql.user and mysql.password"), error);
        assertFalse(r.bodyAsString().contains(password), r.bodyAsString());
      }
      HttpResponse<Buffer> ready = client.get("/health/ready").send().await();
      assertEquals(503, ready.statusCode());
      assertTrue(ready.bodyAsString().contains("the database refused the credentials (Access denied for user 'root'"),
        ready.bodyAsString());
      assertFalse(ready.bodyAsString().contains(password));
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
    }
  }

  @Test
  void downMeansFast503ThenItRecoversByItself() throws Exception {
    Path dir = Path.of("target", "test-mariadb-down-" + ProcessHandle.current().pid(), "data");
    EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, "root");
    int port = db.port();
    FibService node = null;
    Vertx vertx = Vertx.vertx();
    try {
      node = TestNodes.start(Map.of("mysql.host", "127.0.0.1", "mysql.port", String.valueOf(port),
        "mysql.database", "downtest", "mysql.password", db.password(), "jobs.pollMs", "50"));
      DbTestNodes.awaitReady(node);
      WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultPort(node.httpPort())
        .setDefaultHost("127.0.0.1"));
      assertEquals(200, client.get("/db").send().await().statusCode());
      // a first job run: the job runner has looked at the jobs table once, so from now on a lost database is news
      String first = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 10)).await().bodyAsJsonObject()
        .getString("id");
      Eventually.await("a first job to run", Duration.ofSeconds(30), () -> "DONE".equals(client.get("/jobs/" + first)
        .send().await().bodyAsJsonObject().getString("status")));

      // the job runner polls every 50 ms meanwhile: it says once that the database is gone, not at each poll
      CapturedLog log = new CapturedLog(JobRunner.class);
      db.stop();
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> r = client.get("/db").send().await();
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertTrue(r.bodyAsJsonObject().getString("error").contains("the database is unavailable"), r.bodyAsString());
        assertEquals("1", r.getHeader("Retry-After"));
        assertEquals(503, client.get("/people/Han%20Meimei").send().await().statusCode());
      }

      db = EmbeddedMariaDb.start(dir, port, "root");
      int status = Eventually.poll(Duration.ofSeconds(10), () -> client.get("/db").send().await().statusCode(),
        s -> s == 200);
      assertEquals(200, status, "the pool did not reconnect after the database came back");
      Eventually.within(Duration.ofSeconds(10), () -> log.count(Level.INFO, "job runner: the database is back") > 0);
      log.close();
      assertEquals(1, log.count(Level.WARN, "job runner: cannot look for jobs (the database is unavailable"), log.text());
      assertEquals(1, log.count(Level.INFO, "job runner: the database is back; taking jobs again"), log.text());
      assertEquals(0, log.count(Level.WARN, "job poll failed"), log.text());
      assertEquals(200, client.get("/people/Han%20Meimei").send().await().statusCode(), "data survived the restart");
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
      db.stop();
    }
  }
}
