package dev.fibservice.db;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DB features when the database is off, goes down, and comes back. */
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
      assertEquals(503, client.post("/jobs").sendJsonObject(new io.vertx.core.json.JsonObject().put("n", 5)).await()
        .statusCode());
      assertEquals("55", client.get("/fib/10").send().await().bodyAsJsonObject().getString("value"));
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
    }
  }

  @Test
  void dataUnderTheTempDirectorySurvivesARestart() throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("fib-db-in-tmp").resolve("data");
    EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0);
    Path marker = dir.resolve("marker-of-this-test");
    try {
      java.nio.file.Files.writeString(marker, "kept");
    } finally {
      db.stop();
    }
    db = EmbeddedMariaDb.start(dir, 0);
    try {
      assertTrue(java.nio.file.Files.exists(marker), "the data directory under java.io.tmpdir was wiped at start");
      assertTrue(java.nio.file.Files.exists(dir.resolve("mysql")), "the system tables are there");
    } finally {
      db.stop();
    }
  }

  @Test
  void downMeansFast503ThenItRecoversByItself() throws Exception {
    Path dir = Path.of("target", "test-mariadb-down-" + ProcessHandle.current().pid(), "data");
    EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0);
    int port = db.port();
    FibService node = null;
    Vertx vertx = Vertx.vertx();
    try {
      node = TestNodes.start(Map.of("mysql.host", "127.0.0.1", "mysql.port", String.valueOf(port),
        "mysql.database", "downtest"));
      DbTestNodes.awaitReady(node);
      WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultPort(node.httpPort())
        .setDefaultHost("127.0.0.1"));
      assertEquals(200, client.get("/db").send().await().statusCode());

      db.stop();
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> r = client.get("/db").send().await();
        assertEquals(503, r.statusCode(), r.bodyAsString());
        assertTrue(r.bodyAsJsonObject().getString("error").contains("the database is unavailable"), r.bodyAsString());
        assertEquals("1", r.getHeader("Retry-After"));
        assertEquals(503, client.get("/people/Han%20Meimei").send().await().statusCode());
      }

      db = EmbeddedMariaDb.start(dir, port);
      int status = 0;
      for (int i = 0; i < 200 && status != 200; i++) {
        status = client.get("/db").send().await().statusCode();
        Thread.sleep(50);
      }
      assertEquals(200, status, "the pool did not reconnect after the database came back");
      assertEquals(200, client.get("/people/Han%20Meimei").send().await().statusCode(), "data survived the restart");
    } finally {
      vertx.close().await();
      TestNodes.stop(node);
      db.stop();
    }
  }
}
