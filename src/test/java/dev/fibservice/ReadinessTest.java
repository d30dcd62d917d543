package dev.fibservice;

import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.ops.Drain;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readiness's one answer from its named inputs, each input moved on its own: on a real node's Vert.x (its gateway
 * answers the workers check), a readiness of the test's own so that the warm-up and the drain can be moved at will.
 */
class ReadinessTest {

  private static FibService node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNodes.start(Map.of("fib.warmup", "false"));
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  private static JsonObject check(CheckResult result, String id) {
    return result.getChecks().stream().filter(c -> id.equals(c.getId())).findFirst()
      .map(c -> new JsonObject().put("up", c.getUp()).put("data", c.getData())).orElse(null);
  }

  @Test
  void notReadyUntilWarmThenReadyUntilDraining() throws Exception {
    Settings settings = node.node().settings().with(Map.of("fib.warmupWaitMs", "7000"));
    Drain drain = new Drain();
    Readiness readiness = Readiness.create(node.vertx(), settings, drain, Database.off(settings, "off in this test"),
      null);

    CheckResult cold = readiness.checks().checkStatus().await();
    assertFalse(cold.getUp(), "not ready while warming up");
    assertEquals(Map.of("accepting", true, "warmup", false, "workers", true), ups(cold));
    assertTrue(check(cold, Readiness.WARMUP).getJsonObject("data").getString("reason")
      .contains("at most fib.warmupWaitMs = 7000 ms after the start"), cold.toJson().encode());
    assertEquals(null, check(cold, Readiness.DATABASE), "no database check with the database off");
    assertEquals(null, check(cold, Readiness.CLUSTER), "no cluster check alone");

    readiness.warmed(false);
    CheckResult warm = readiness.checks().checkStatus().await();
    assertTrue(warm.getUp(), warm.toJson().encode());
    assertEquals(false, check(warm, Readiness.WARMUP).getJsonObject("data").getBoolean("finished"),
      "the wait ended before the warm-ups: said so");

    drain.start();
    CheckResult draining = readiness.checks().checkStatus().await();
    assertFalse(draining.getUp());
    assertEquals(Map.of("accepting", false, "warmup", true, "workers", true), ups(draining));
  }

  /** The node's own readiness: every named check, UP once started (its start waited for the warm-up). */
  @Test
  void aStartedNodeIsReadyWithItsNamedChecks() throws Exception {
    CheckResult result = node.node().readiness().checks().checkStatus().await();
    assertTrue(result.getUp(), result.toJson().encode());
    assertEquals(Map.of("accepting", true, "warmup", true, "workers", true), ups(result));
  }

  /** The docs' table of readiness checks (wherever in docs/ it is) lists exactly the checks there are. */
  @Test
  void theDocsListEveryCheck() throws Exception {
    java.util.Set<String> documented = new java.util.TreeSet<>();
    try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("docs"))) {
      for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".md")).toList()) {
        String text = java.nio.file.Files.readString(file);
        int table = text.indexOf("| Check | DOWN while |");
        if (table >= 0) {
          text.substring(table).lines().skip(2).takeWhile(l -> l.startsWith("|"))
            .forEach(l -> documented.add(l.substring(l.indexOf('`') + 1, l.indexOf('`', l.indexOf('`') + 1))));
        }
      }
    }
    assertEquals(new java.util.TreeSet<>(java.util.List.of(Readiness.ACCEPTING, Readiness.WARMUP, Readiness.WORKERS,
      Readiness.DATABASE, Readiness.CLUSTER)), documented, "the table \"| Check | DOWN while |\" in docs/");
  }

  private static Map<String, Boolean> ups(CheckResult result) {
    Map<String, Boolean> ups = new java.util.TreeMap<>();
    result.getChecks().forEach(c -> ups.put(c.getId(), c.getUp()));
    return ups;
  }
}
