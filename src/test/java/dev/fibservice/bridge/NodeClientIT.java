package dev.fibservice.bridge;

import dev.fibservice.ExampleReadme;
import dev.fibservice.ServiceProcess;
import dev.fibservice.TestConf;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official JavaScript client ({@code @vertx/eventbus-bridge-client.js}, installed by {@code npm ci} from
 * examples/node's package-lock.json into a copy of that directory) in Node.js, against the real jar at
 * {@code /eventbus}: the checklist, then the example client, and its README's commands as written. Skipped,
 * with one line saying why, when node or npm is not installed or npm cannot reach its registry.
 */
@EnabledIf(value = "dev.fibservice.bridge.NodeClientIT#installed", disabledReason = NodeClientIT.MISSING)
class NodeClientIT {

  static final String MISSING = "Node.js client tests skipped: node or npm is not installed (on PATH)";

  /** A temporary copy of the project's examples/node, at examples/node under it (the README's commands cd there). */
  private static Path root;
  private static Path dir;
  private static ServiceProcess node;
  private static String url;

  static boolean installed() {
    return run(Path.of("."), 30, "node", "--version").code == 0 && run(Path.of("."), 30, "npm", "--version").code == 0;
  }

  @BeforeAll
  static void start() throws Exception {
    root = Files.createTempDirectory("fib-node-client");
    dir = Files.createDirectories(root.resolve("examples").resolve("node"));
    for (String file : List.of("package.json", "package-lock.json", "fib_client.js")) {
      Files.copy(Path.of("examples", "node", file), dir.resolve(file));
    }
    Files.copy(Path.of("src", "test", "resources", "node", "checklist.js"), dir.resolve("checklist.js"));
    Result npm = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
    if (npm.code != 0 && npm.out.matches("(?s).*(ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET).*")) {
      Assumptions.abort("Node.js client tests skipped: npm could not reach its registry:\n" + npm.tail());
    }
    assertEquals(0, npm.code, "npm ci:\n" + npm.tail());
    // the jar as `make run` starts it, on free ports and without the database
    node = ServiceProcess.start("node-client", Map.of(), "--http-port", "0", "--tcp-port", "0", "--bridge-port", "0",
      "--set", "mysql.host=off", "--set", "node.name=node-client-it").awaitReady();
    url = "http://127.0.0.1:" + node.httpPort() + "/eventbus";
  }

  @AfterAll
  static void stop() throws IOException {
    if (node != null) {
      node.close();
    }
    if (root != null) {
      run(Path.of("."), 60, "rm", "-rf", root.toString());
    }
  }

  @Test
  void theOfficialClientInNodeDoesTheWholeChecklist() {
    Result out = run(dir, 120, "node", "checklist.js", url);
    assertEquals(0, out.code, out.out);
    Map<String, JsonObject> checks = new HashMap<>();
    for (String line : out.out.split("\n")) {
      if (line.startsWith("{")) {
        JsonObject check = new JsonObject(line);
        checks.put(check.getString("check"), check);
      }
    }
    assertTrue(out.out.trim().endsWith("done"), out.out);

    JsonObject compute = checks.get("compute");
    assertEquals("832040", compute.getJsonObject("body").getString("value"), compute.encode());
    assertEquals(30, compute.getJsonObject("body").getInteger("n"), compute.encode());

    JsonObject negative = checks.get("negative").getJsonObject("err");
    assertEquals(400, negative.getInteger("failureCode"), negative.encode());
    assertEquals("n must not be negative, got -1", negative.getString("message"), negative.encode());

    JsonObject internal = checks.get("internal").getJsonObject("err");
    assertEquals(403, internal.getInteger("failureCode"), internal.encode());
    assertTrue(internal.getString("message").startsWith("access_denied"), internal.encode());

    // not silence: the database is off here, and the answer says so
    JsonObject jobs = checks.get("jobsStatus").getJsonObject("err");
    assertEquals(503, jobs.getInteger("failureCode"), jobs.encode());

    JsonObject stats = checks.get("stats");
    assertTrue(stats.getLong("afterMs") < 5000, "a fib.stats push within 5 s: " + stats.encode());
    JsonObject push = stats.getJsonObject("body");
    assertEquals("node-client-it", push.getString("node"), push.encode());
    assertTrue(push.containsKey("requestsPerSecond") && push.containsKey("inFlight") && push.containsKey("http"),
      push.encode());

    assertEquals(new JsonArray(), checks.get("unaddressed").getJsonArray("errors"),
      "every error reached the callback of the request it answers");
  }

  @Test
  void theExampleClientPrintsTheValueOrTheError() {
    Result ok = run(dir, 120, "node", "fib_client.js", "--url", url, "30");
    assertEquals(0, ok.code, ok.out);
    assertEquals("832040", ok.out.trim());

    Result bad = run(dir, 120, "node", "fib_client.js", "--url", url, "-1");
    assertEquals(1, bad.code, bad.out);
    assertEquals("error 400: n must not be negative, got -1", bad.out.trim());

    Result stats = run(dir, 120, "node", "fib_client.js", "--url", url, "--stats");
    assertEquals(0, stats.code, stats.out);
    assertEquals("node-client-it", new JsonObject(stats.out.trim()).getString("node"), stats.out);
  }

  /** examples/node/README.md's commands as written, against the service its own `make run` starts (port 8080 free). */
  @Test
  void theReadmesCommandsRunAsWritten() throws Exception {
    ExampleReadme readme = ExampleReadme.of("node");
    assertEquals("make run", readme.service().line(), "the SockJS bridge is on by default: no flag needed");
    try (ExampleReadme.Service service = readme.startService(Path.of("").toAbsolutePath(), List.of("--conf",
      TestConf.CONFIG.toString(), "--http-port", "0", "--tcp-port", "0", "--set", "mysql.host=off"))) {
      int http = service.ports().getInteger("http", -1);
      readme.runCommands(root, ExampleReadme.substitutions("http://127.0.0.1:8080/", "http://127.0.0.1:" + http + "/"),
        Map.of());
    }
  }

  private record Result(int code, String out) {
    String tail() {
      return out.length() <= 4000 ? out : out.substring(out.length() - 4000);
    }
  }

  /** Runs a command in {@code dir}, its output merged, killed after {@code seconds} (then code -1). */
  private static Result run(Path dir, long seconds, String... command) {
    try {
      Path log = Files.createTempFile("fib-node", ".log");
      try {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!ended) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        return new Result(ended ? p.exitValue() : -1, ended ? out : out + "\n(killed after " + seconds + " s)");
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      return new Result(-1, String.valueOf(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
