package dev.fibservice;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real jar with its embedded MariaDB: jobs survive a restart; the jar and target/lib/ copied anywhere are all it
 * needs; the jar alone runs with the DB off.
 */
class DatabaseIT {

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(int port, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitDb(int port) throws Exception {
    Eventually.await("the database to become ready", Duration.ofSeconds(60), () -> get(port, "/db").statusCode() == 200);
  }

  private JsonObject awaitJob(int port, String id, String status) throws Exception {
    JsonObject job = Eventually.poll(Duration.ofSeconds(60), () -> new JsonObject(get(port, "/jobs/" + id).body()),
      j -> status.equals(j.getString("status")));
    if (!status.equals(job.getString("status"))) {
      throw new AssertionError("job never reached " + status + ": " + job);
    }
    return job;
  }

  @Test
  void jobsSurviveARestart() throws Exception {
    Path data = Path.of("target", "it-data-" + System.nanoTime(), "mariadb").toAbsolutePath();
    String[] args = {"--http-port", "0", "--tcp-port", "0", "--set", "mysql.dataDir=" + data, "--set", "mysql.port=0",
      "--set", "fib.maxN.recursive=60", "--set", "jobs.leaseMs=1000", "--set", "jobs.pollMs=100"};
    String doneId;
    String runningId;
    try (ServiceProcess first = ServiceProcess.start("jobs-first", Map.of(), args).awaitReady()) {
      int port = first.httpPort();
      awaitDb(port);
      doneId = new JsonObject(post(port, "/jobs", "{\"n\":5000}").body()).getString("id");
      awaitJob(port, doneId, "DONE");
      // naive recursion: seconds of work, so it is surely running when the process stops
      runningId = new JsonObject(post(port, "/jobs", "{\"n\":41,\"algorithm\":\"recursive\"}").body()).getString("id");
      awaitJob(port, runningId, "RUNNING");
      first.terminate();
      assertEquals(0, first.awaitExit(60));
    }
    try (ServiceProcess second = ServiceProcess.start("jobs-second", Map.of(), args).awaitReady()) {
      int port = second.httpPort();
      awaitDb(port);
      JsonObject done = new JsonObject(get(port, "/jobs/" + doneId).body());
      assertEquals("DONE", done.getString("status"));
      assertEquals(1045, done.getInteger("digits"));
      assertEquals(1046, get(port, "/jobs/" + doneId + "/result").body().length());
      JsonObject rerun = awaitJob(port, runningId, "DONE");
      assertEquals(9, rerun.getInteger("digits"));
      assertEquals("165580141\n", get(port, "/jobs/" + runningId + "/result").body());
      second.terminate();
      assertEquals(0, second.awaitExit(60));
    }
  }

  @Test
  void aKilledNodesOrphanedDatabaseIsStoppedAtTheNextStart() throws Exception {
    Path data = Path.of("target", "it-data-" + System.nanoTime(), "mariadb").toAbsolutePath();
    String[] args = {"--http-port", "0", "--tcp-port", "0", "--set", "mysql.dataDir=" + data, "--set", "mysql.port=0"};
    try (ServiceProcess first = ServiceProcess.start("orphan-first", Map.of(), args).awaitReady()) {
      awaitDb(first.httpPort());
      // SIGKILL: no shutdown hook runs, the MariaDB child lives on and keeps the data directory locked
      first.kill();
      first.awaitExit(30);
    }
    try (ServiceProcess second = ServiceProcess.start("orphan-second", Map.of(), args).awaitReady()) {
      awaitDb(second.httpPort());
      assertTrue(second.log().contains("stopping an orphaned MariaDB"), second.log());
      assertEquals(200, get(second.httpPort(), "/people/Han%20Meimei").statusCode());
      second.terminate();
      assertEquals(0, second.awaitExit(60));
    }
  }

  /**
   * "One fat jar" is the jar plus lib/ beside it: its manifest's Class-Path names exactly the jars of target/lib/, and
   * the two copied to a directory of their own (nothing else: no conf/, no checkout) start the embedded MariaDB there.
   */
  @Test
  void theJarAndItsLibDirectoryAreAllItNeeds() throws Exception {
    Path lib = Path.of("target", "lib");
    List<String> classPath;
    try (JarFile jar = new JarFile(ServiceProcess.jar().toFile())) {
      classPath = List.of(jar.getManifest().getMainAttributes().getValue("Class-Path").split(" "));
    }
    List<String> shipped;
    try (Stream<Path> jars = Files.list(lib)) {
      shipped = jars.map(j -> "lib/" + j.getFileName()).toList();
    }
    assertEquals(new TreeSet<>(shipped), new TreeSet<>(classPath), "the manifest's Class-Path is target/lib/");

    Path dir = Files.createTempDirectory("fib-jar-and-lib");
    Path jar = Files.copy(ServiceProcess.jar(), dir.resolve("fib-service.jar"));
    Files.createDirectories(dir.resolve("lib"));
    for (String entry : classPath) {
      Files.copy(lib.resolve(Path.of(entry).getFileName()), dir.resolve(entry));
    }
    Path data = Path.of("target", "it-data-" + System.nanoTime(), "mariadb").toAbsolutePath();
    // started in that directory (env -C), as on a host that has these two and nothing of the project
    try (ServiceProcess node = ServiceProcess.launch(List.of("env", "-C", dir.toString()), jar,
      Path.of("target", "it-logs", "jar-and-lib-" + System.nanoTime() + ".log").toAbsolutePath(), List.of("-Xmx512m"),
      Map.of(), List.of("--http-port", "0", "--tcp-port", "0", "--set", "mysql.port=0", "--set", "mysql.dataDir=" + data))
      .awaitReady()) {
      awaitDb(node.httpPort());
      assertTrue(node.log().contains("embedded MariaDB started on"), node.log());
      node.terminate();
      assertEquals(0, node.awaitExit(60));
    } finally {
      // 180 MB of jars in the temporary directory
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Test
  void theJarAloneIsLeanAndRunsWithTheDatabaseOff() throws Exception {
    long size = Files.size(ServiceProcess.jar());
    assertTrue(size < 50L * 1024 * 1024, "fat jar is " + size + " bytes; the target is at most 50 MB");
    Path alone = Files.createTempDirectory("fib-jar-alone");
    Path jar = Files.copy(ServiceProcess.jar(), alone.resolve("fib-service.jar"), StandardCopyOption.REPLACE_EXISTING);
    try (ServiceProcess node = ServiceProcess.startJar(jar, "jar-alone", Map.of(), "--http-port", "0", "--tcp-port", "0")
      .awaitReady()) {
      assertTrue(node.log().contains("DB features are off: mysql.host is \"embedded\" but the embedded MariaDB is not here"),
        node.log());
      HttpResponse<String> db = get(node.httpPort(), "/db");
      assertEquals(503, db.statusCode());
      assertTrue(db.body().contains("the database features are off"), db.body());
      assertEquals(200, get(node.httpPort(), "/hello").statusCode());
      node.terminate();
      assertEquals(0, node.awaitExit(30));
    }
  }
}
