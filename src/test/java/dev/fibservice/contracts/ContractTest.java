package dev.fibservice.contracts;

import dev.fibservice.client.Protocol;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The compatibility rule (docs/compatibility.md), kept: every earlier release's fixtures under
 * {@code src/test/resources/contracts/<version>/} replayed against this build. Each old request is accepted and
 * answered as before (a failure with the same code), and each reply, frame and published body is one an old consumer
 * can read: every old field there with the same JSON type, the stable ones with the same value. The old schema's columns
 * and keys are all still there and the old SQL (its job runner's too) still runs; old config keys still load; the
 * client library keeps its names. And what nobody has sent yet: unknown fields and headers are ignored, a request
 * this release cannot serve fails at once with a reason, never by a timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContractTest {

  private ContractNode node;
  private Contracts.Run run;

  @BeforeAll
  void start() throws Exception {
    assertFalse(versions().isEmpty(), "no fixtures under " + Contracts.ROOT);
    node = ContractNode.start("replay");
    run = new Contracts.Run(node);
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  static List<Path> versions() throws IOException {
    try (Stream<Path> dirs = Files.list(Contracts.ROOT)) {
      return dirs.filter(Files::isDirectory).sorted().toList();
    }
  }

  private static JsonArray array(Path dir, String file) throws IOException {
    return new JsonArray(Files.readString(dir.resolve(file)));
  }

  private static JsonObject object(Path dir, String file) throws IOException {
    return new JsonObject(Files.readString(dir.resolve(file)));
  }

  private static String name(Path dir, String file, JsonObject entry) {
    return dir.getFileName() + " " + file + ": " + entry.getString("name");
  }

  @TestFactory
  @Order(1)
  Stream<DynamicTest> oldEventBusRequestsAreAnsweredAsBefore() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : versions()) {
      for (Object e : array(dir, Contracts.EVENT_BUS)) {
        JsonObject entry = (JsonObject) e;
        tests.add(DynamicTest.dynamicTest(name(dir, Contracts.EVENT_BUS, entry), () -> {
          JsonObject outcome = Contracts.exchange(run, entry);
          if (entry.containsKey("failure")) {
            JsonObject was = entry.getJsonObject("failure");
            JsonObject is = outcome.getJsonObject("failure");
            assertNotNull(is, "answered where it failed before: " + outcome.encode());
            assertEquals(was.getInteger("code"), is.getInteger("code"), is.encode());
            assertEquals(was.getString("type"), is.getString("type"), is.encode());
            assertFalse(is.getString("message", "").isBlank(), "a failure says why");
          } else {
            assertNotNull(outcome.getValue("reply"), "failed where it answered before: " + outcome.encode());
            assertNull(Contracts.readableAs(entry.getValue("reply"), outcome.getValue("reply"), "reply"),
              outcome.encode());
          }
        }));
      }
    }
    return tests.stream();
  }

  @TestFactory
  @Order(2)
  Stream<DynamicTest> oldBridgeFramesAreAnsweredAsBefore() throws Exception {
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : versions()) {
      for (String file : List.of(Contracts.TCP_BRIDGE, Contracts.SOCKJS)) {
        // one connection per file, its frames in order, as the capture sent them
        ContractNode.FrameSocket[] socket = new ContractNode.FrameSocket[1];
        JsonArray entries = array(dir, file);
        for (int i = 0; i < entries.size(); i++) {
          JsonObject entry = entries.getJsonObject(i);
          boolean first = i == 0;
          boolean last = i == entries.size() - 1;
          tests.add(DynamicTest.dynamicTest(name(dir, file, entry), () -> {
            if (first) {
              socket[0] = Contracts.TCP_BRIDGE.equals(file) ? node.bridge() : node.sockJs();
            }
            try {
              JsonArray frames = Contracts.frames(socket[0], entry);
              JsonArray was = entry.getJsonArray("frames");
              assertEquals(was.size(), frames.size());
              for (int f = 0; f < was.size(); f++) {
                assertNull(Contracts.readableAs(was.getValue(f), frames.getValue(f), "frame " + f), frames.encode());
              }
            } finally {
              if (last) {
                socket[0].close();
              }
            }
          }));
        }
      }
    }
    return tests.stream();
  }

  @Test
  @Order(3)
  void unknownFieldsAndHeadersAreIgnored() {
    JsonObject headers = new JsonObject().put("x-request-id", "contract-extra").put("x-from-a-later-release", "1");
    JsonObject outcome = node.request("fib.compute", new JsonObject().put("n", 50).put("algorithm", "iterative")
      .put("fromALaterRelease", new JsonObject().put("any", List.of(1, 2))), headers);
    assertEquals("12586269025", outcome.getJsonObject("reply").getString("value"), outcome.encode());
    outcome = node.request("fib.compute.member." + node.member(), new JsonObject().put("n", 10).put("later", true),
      headers);
    assertEquals("55", outcome.getJsonObject("reply").getString("value"), outcome.encode());
    outcome = node.request("jobs.submit", new JsonObject().put("n", 10).put("priority", "later"), headers);
    assertEquals("PENDING", outcome.getJsonObject("reply").getString("status"), outcome.encode());
    outcome = node.request("fib.cluster.ping." + node.member(), new JsonObject().put("from", "a later front"), headers);
    assertEquals(node.member(), outcome.getJsonObject("reply").getString("member"), outcome.encode());
  }

  @Test
  @Order(4)
  void unknownFieldsOfBridgeFramesAreIgnored() throws Exception {
    for (boolean tcp : List.of(true, false)) {
      try (ContractNode.FrameSocket socket = tcp ? node.bridge() : node.sockJs()) {
        socket.send(new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", "x1")
          .put("body", new JsonObject().put("n", 50).put("later", "field"))
          .put("headers", new JsonObject().put("x-from-a-later-release", "1")).put("laterFrameField", 7));
        JsonObject reply = socket.receive(1, false).get(0);
        assertEquals("x1", reply.getString("address"), reply.encode());
        assertEquals("12586269025", reply.getJsonObject("body").getString("value"), reply.encode());
      }
    }
  }

  /** What a later release may send that this one cannot serve is refused at once and says why: never a timeout. */
  @Test
  @Order(5)
  void whatThisReleaseCannotServeFailsAtOnceWithAReason() throws Exception {
    JsonObject outcome = node.request("fib.compute", new JsonObject().put("n", 5).put("algorithm", "matrix"),
      new JsonObject());
    assertEquals(400, outcome.getJsonObject("failure").getInteger("code"), outcome.encode());
    assertTrue(outcome.getJsonObject("failure").getString("message").contains("unknown algorithm 'matrix'"));
    // a new message goes to a new address: where nobody serves it, the bus says so at once
    outcome = node.request("fib.compute.v2", new JsonObject().put("n", 5), new JsonObject());
    assertEquals("NO_HANDLERS", outcome.getJsonObject("failure").getString("type"), outcome.encode());
    outcome = node.request("jobs.submit", new JsonObject().put("n", 5).put("algorithm", "matrix"), new JsonObject());
    assertEquals(400, outcome.getJsonObject("failure").getInteger("code"), outcome.encode());
    for (boolean tcp : List.of(true, false)) {
      try (ContractNode.FrameSocket socket = tcp ? node.bridge() : node.sockJs()) {
        socket.send(new JsonObject().put("type", "subscribe-v2").put("address", "fib.compute"));
        JsonObject reply = socket.receive(1, false).get(0);
        assertEquals("err", reply.getString("type"), reply.encode());
        socket.send(new JsonObject().put("type", "send").put("address", "fib.compute.v2").put("replyAddress", "x2")
          .put("body", new JsonObject()));
        reply = socket.receive(1, false).get(0);
        assertEquals("err", reply.getString("type"), reply.encode());
        assertTrue(reply.getString("message").contains("access_denied"), reply.encode());
      }
    }
  }

  @Test
  @Order(6)
  void theOldSchemasColumnsAndKeysAreAllStillThere() throws Exception {
    try (Contracts.Schema schema = Contracts.Schema.start("replay")) {
      JsonObject now = schema.describe().getJsonObject("tables");
      for (Path dir : versions()) {
        JsonObject old = object(dir, Contracts.SCHEMA).getJsonObject("tables");
        for (String table : old.fieldNames()) {
          assertTrue(now.containsKey(table), dir.getFileName() + ": table " + table + " was dropped");
          Map<String, String> was = definitions(old.getString(table));
          Map<String, String> is = definitions(now.getString(table));
          was.forEach((name, definition) -> assertEquals(definition, is.get(name),
            dir.getFileName() + ": " + table + " " + name + " changed (expand, then contract a release later)"));
        }
      }
    }
  }

  /** Columns by name and keys by their text, from {@code SHOW CREATE TABLE}. */
  static Map<String, String> definitions(String create) {
    Map<String, String> lines = new LinkedHashMap<>();
    Matcher column = Pattern.compile("^\\s+`([^`]+)` (.*?),?$", Pattern.MULTILINE).matcher(create);
    while (column.find()) {
      lines.put("column " + column.group(1), column.group(2));
    }
    Matcher key = Pattern.compile("^\\s+((?:PRIMARY|UNIQUE)? ?KEY .*?),?$", Pattern.MULTILINE).matcher(create);
    while (key.find()) {
      lines.put(key.group(1), key.group(1));
    }
    return lines;
  }

  /** An older member, its job runner included, keeps working against this release's schema: its SQL still runs. */
  @Test
  @Order(7)
  void theOldSqlStillRunsAgainstThisSchema() throws Exception {
    for (Path dir : versions()) {
      try (Contracts.Schema schema = Contracts.Schema.start("old_sql_" + dir.getFileName())) {
        for (Object s : array(dir, Contracts.SQL)) {
          JsonObject step = (JsonObject) s;
          JsonObject was = step.getJsonObject("result");
          JsonObject is;
          try {
            is = schema.statement(step);
          } catch (RuntimeException e) {
            throw new AssertionError(dir.getFileName() + ": " + step.getString("name") + " fails: " + e.getMessage(), e);
          }
          assertEquals(was.getInteger("rowCount"), is.getInteger("rowCount"), step.getString("name"));
          assertEquals(was.getJsonArray("columns"), is.getJsonArray("columns"), step.getString("name"));
          assertEquals(was.getInteger("rows"), is.getInteger("rows"), step.getString("name"));
        }
      }
    }
  }

  /** A key keeps its name, its environment variable and its type; a renamed one loads under its old name too. */
  @Test
  @Order(8)
  void oldConfigKeysStillLoad() throws Exception {
    for (Path dir : versions()) {
      for (Object k : array(dir, Contracts.CONFIG)) {
        JsonObject key = (JsonObject) k;
        List<String> names = new ArrayList<>(List.of(key.getString("name")));
        key.getJsonArray("aliases").forEach(a -> names.add((String) a));
        for (String name : names) {
          try {
            Settings.defaults().with(Map.of(name, key.getString("default")));
          } catch (ConfigException e) {
            fail(dir.getFileName() + ": config key " + name + " (default " + key.getString("default") + ") no longer"
              + " loads: " + e.getMessage());
          }
          assertTrue(Settings.KEYS.stream().anyMatch(now -> now.envName().equals(Key.envName(name))
              || now.aliases().stream().anyMatch(a -> Key.envName(a).equals(Key.envName(name)))),
            dir.getFileName() + ": the environment variable " + Key.envName(name) + " is no longer read");
        }
      }
    }
  }

  @Test
  @Order(9)
  void theClientLibraryKeepsItsNames() throws Exception {
    for (Path dir : versions()) {
      JsonObject old = object(dir, Contracts.CLIENT);
      for (Map.Entry<String, Object> c : old.getJsonObject("constants")) {
        Object now;
        try {
          now = Protocol.class.getField(c.getKey()).get(null);
        } catch (NoSuchFieldException e) {
          now = null;
        }
        assertEquals(c.getValue(), now, dir.getFileName() + ": Protocol." + c.getKey());
      }
      assertEquals(old.getString("computeOn"), Protocol.computeOn(Contracts.MEMBER));
      assertEquals(old.getString("pingOn"), Protocol.pingOn(Contracts.MEMBER));
    }
  }

  /** Last: what the node publishes by itself, its leave included (it stops here), reads as before. */
  @Test
  @Order(10)
  void whatItPublishesReadsAsBefore() throws Exception {
    ContractCapture.cancelARunningJob(node);
    node.close();
    for (Path dir : versions()) {
      JsonObject old = object(dir, Contracts.EMITTED);
      for (String address : old.fieldNames()) {
        List<Object> bodies = node.emitted(address);
        assertFalse(bodies.isEmpty(), dir.getFileName() + ": nothing was published on " + address);
        for (Object body : bodies) {
          assertNull(Contracts.readableAs(old.getValue(address), run.placeholders(body), address), String.valueOf(body));
        }
      }
    }
  }
}
