package dev.fibservice.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import dev.fibservice.api.Version;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest {

  @TempDir
  Path dir;

  /**
   * conf/config.json is the user's file (`make run` reads it; no other test does): whatever they tuned, it must load,
   * every key known and every value accepted, and it has no slot for a secret, which would invite committing one.
   */
  @Test
  void confConfigJsonIsValidAndHoldsNoSecret() throws Exception {
    Path conf = Path.of("conf", "config.json");
    Settings.load(conf, true, Map.of(), Map.of()); // throws, naming the key, on an unknown key or a refused value
    Map<String, Object> keys = new java.util.LinkedHashMap<>();
    flatten("", new JsonObject(Files.readString(conf)), keys);
    for (Key key : Settings.KEYS) {
      if (key.secret()) {
        assertTrue(!keys.containsKey(key.name()), conf + " has a slot for the secret " + key.name()
          + ": give it in " + key.envName() + " or a file (mysql.passwordFile) instead");
      }
    }
  }

  /** The built-in defaults still make a complete config file: every key but the secrets, each at its default. */
  @Test
  void theDefaultsAsAFileLoadBack() throws Exception {
    JsonObject defaults = Settings.defaultsAsJson();
    Path file = write(defaults.encodePrettily());
    Settings loaded = Settings.load(file, true, Map.of(), Map.of());
    assertEquals(Settings.defaults().describe(), loaded.describe().stream()
      .map(line -> line.replace(" (" + file + ")", " (default)")).toList());
    Map<String, Object> keys = new java.util.LinkedHashMap<>();
    flatten("", defaults, keys);
    assertTrue(!keys.containsKey(Settings.MYSQL_PASSWORD.name()), "no secret slot: " + keys.keySet());
  }

  private static void flatten(String prefix, JsonObject json, Map<String, Object> into) {
    json.forEach(e -> {
      if (e.getValue() instanceof JsonObject nested) {
        flatten(prefix + e.getKey() + ".", nested, into);
      } else {
        into.put(prefix + e.getKey(), e.getValue());
      }
    });
  }

  /**
   * docs/configuration.md's table is the keys' own: one row per key, with its environment name, default, accepted
   * values and description (the doc may add backticks, and words after the description); no row for a key that does
   * not exist.
   */
  @Test
  void theConfigurationDocHasEveryKeyAsTheCodeHasIt() throws Exception {
    String doc = Files.readString(Path.of("docs", "configuration.md"));
    String header = "| key | environment | default | accepted | meaning |";
    int start = doc.indexOf(header + "\n");
    assertTrue(start >= 0, "docs/configuration.md lacks the config table " + header);
    Map<String, String> rows = new java.util.HashMap<>();
    List<String> problems = new ArrayList<>();
    doc.substring(start).lines().skip(2).takeWhile(l -> l.startsWith("|")).forEach(row -> {
      String name = row.substring(1, row.indexOf('|', 1)).trim().replace("`", "");
      if (rows.put(name, row) != null) {
        problems.add("two rows for " + name);
      }
    });
    for (Key key : Settings.KEYS) {
      String expected = "| `" + key.name() + "` | `" + key.envName() + "` | " + key.defaultValue() + " | "
        + accepted(key) + " | " + key.description();
      String row = rows.remove(key.name());
      if (row == null) {
        problems.add("no row for " + key.name() + ": " + expected + " |");
      } else if (!row.replace("`", "").startsWith(expected.replace("`", "")) || !row.endsWith(" |")) {
        problems.add(key.name() + "'s row should be (backticks, and words after the description, are fine)\n  "
          + expected + " |\nbut is\n  " + row);
      }
    }
    rows.keySet().forEach(name -> problems.add("a row for " + name + ", which is no key"));
    assertTrue(problems.isEmpty(), "docs/configuration.md's table is not the code's:\n" + String.join("\n", problems));
  }

  /** The accepted values as the doc's table shows them. */
  private static String accepted(Key key) {
    return switch (key.type()) {
      case INT -> key.min() + "–" + key.max();
      case INT_OR_AUTO -> "\"auto\" or " + key.min() + "–" + key.max();
      case BOOLEAN -> "true or false";
      case STRING -> "a string";
      case CHOICE -> String.join(", ", key.choices());
      case DECIMAL -> key.min() + "–" + key.max();
    };
  }

  @Test
  void defaults() {
    Settings s = Settings.defaults();
    assertEquals(8080, s.getInt(Settings.HTTP_PORT));
    assertEquals(25000, s.getInt(Settings.TCP_PORT));
    assertEquals("127.0.0.1", s.getString(Settings.HOST));
    assertEquals(Runtime.getRuntime().availableProcessors(), s.getInt(Settings.INSTANCES));
    assertEquals(Runtime.getRuntime().availableProcessors(), s.getInt(Settings.FIB_HEAVY_WORKERS));
  }

  @Test
  void flagBeatsEnvBeatsFileBeatsDefault() throws Exception {
    Path file = write("{\"http\":{\"port\":1001},\"tcp\":{\"port\":2001},\"fib\":{\"timeoutMs\":3001}}");
    Map<String, String> env = Map.of("FIB_HTTP_PORT", "1002", "FIB_TCP_PORT", "2002");
    Settings s = Settings.load(file, true, env, Map.of("http.port", "1003"));
    assertEquals(1003, s.getInt(Settings.HTTP_PORT), "flag wins");
    assertEquals(2002, s.getInt(Settings.TCP_PORT), "env beats file");
    assertEquals(3001, s.getInt(Settings.FIB_TIMEOUT_MS), "file beats default");
    assertEquals(256, s.getInt(Settings.FIB_MAX_IN_FLIGHT), "default");
  }

  @Test
  void envNamesFollowTheKeys() {
    assertEquals("FIB_HTTP_PORT", Settings.HTTP_PORT.envName());
    assertEquals("FIB_FIB_HEAVY_WORKERS", Settings.FIB_HEAVY_WORKERS.envName());
    assertEquals("FIB_WORKER_INSTANCES", Key.envName(Settings.FIB_HEAVY_WORKERS.aliases().get(0)));
    assertEquals("FIB_FIB_MAX_IN_FLIGHT", Settings.FIB_MAX_IN_FLIGHT.envName());
    assertEquals("FIB_FIB_MAX_N_RECURSIVE", Settings.FIB_MAX_RECURSIVE.envName());
  }

  @Test
  void badValuesNameTheKeyAndTheRange() throws Exception {
    assertBad("http.port: '70000' is not accepted (from command line); expected an integer from 0 to 65535",
      null, Map.of(), Map.of("http.port", "70000"));
    assertBad("instances: '0' is not accepted (from environment FIB_INSTANCES); expected \"auto\" or an integer from 1",
      null, Map.of("FIB_INSTANCES", "0"), Map.of());
    assertBad("tcp.port: 'abc' is not accepted", null, Map.of(), Map.of("tcp.port", "abc"));
    assertBad("transport: 'rdma' is not accepted (from command line); expected one of auto, epoll, io_uring, nio",
      null, Map.of(), Map.of("transport", "rdma"));
    // kqueue (BSD, macOS) can never load on the Linux this runs on: refused, naming what can
    assertBad("transport: 'kqueue' is not accepted (from environment FIB_TRANSPORT); expected one of auto, epoll,"
      + " io_uring, nio", null, Map.of("FIB_TRANSPORT", "kqueue"), Map.of());
    Path file = write("{\"http\":{\"port\":\"8080\"}}");
    assertBad("http.port: '8080' is not accepted (from " + file + ")", file, Map.of(), Map.of());
    file = write("{\"http\":{\"port\":80.5}}");
    assertBad("http.port: 80.5 is not accepted", file, Map.of(), Map.of());
    file = write("{\"http\":{\"prot\":80}}");
    assertBad("unknown config key 'http.prot'", file, Map.of(), Map.of());
    file = write("{\"host\":true}");
    assertBad("host: true is not accepted", file, Map.of(), Map.of());
    file = write("not json");
    assertBad("is not a JSON object", file, Map.of(), Map.of());
    assertBad("does not exist", dir.resolve("missing.json"), Map.of(), Map.of());
  }

  @Test
  void oldKeyNamesStillLoadAndSaySo() throws Exception {
    Key heavy = Settings.FIB_HEAVY_WORKERS;
    assertEquals("workerInstances", heavy.aliases().get(0));
    Path file = write("{\"workerInstances\":3}");
    Settings fromFile = Settings.load(file, true, Map.of(), Map.of());
    assertEquals(3, fromFile.getInt(heavy));
    assertEquals(1, fromFile.deprecations().size(), fromFile.deprecations().toString());
    assertTrue(fromFile.deprecations().get(0).contains("workerInstances (from " + file + ") is the old name of"
      + " fib.heavyWorkers"), fromFile.deprecations().toString());
    assertTrue(String.join("\n", fromFile.describe()).contains("fib.heavyWorkers=3 (" + file + ")"));
    Settings fromEnv = Settings.load(null, false, Map.of("FIB_WORKER_INSTANCES", "4"), Map.of());
    assertEquals(4, fromEnv.getInt(heavy));
    assertTrue(fromEnv.deprecations().get(0).contains("environment FIB_WORKER_INSTANCES"), fromEnv.deprecations().toString());
    Settings fromFlag = Settings.load(null, false, Map.of(), Map.of("workerInstances", "5"));
    assertEquals(5, fromFlag.getInt(heavy));
    assertEquals(1, fromFlag.deprecations().size());
    assertEquals(6, Settings.defaults().with(Map.of("workerInstances", "6")).getInt(heavy));
    // where both names are given, the new one wins, whatever the order
    Path both = write("{\"fib\":{\"heavyWorkers\":2},\"workerInstances\":7}");
    assertEquals(2, Settings.load(both, true, Map.of(), Map.of()).getInt(heavy));
    assertEquals(2, Settings.load(null, false, Map.of("FIB_WORKER_INSTANCES", "7", "FIB_FIB_HEAVY_WORKERS", "2"),
      Map.of()).getInt(heavy));
    // an old name gets the same checks as the new one
    assertBad("fib.heavyWorkers: '0' is not accepted (from command line); expected \"auto\" or an integer from 1 to 256",
      null, Map.of(), Map.of("workerInstances", "0"));
    assertTrue(Settings.defaults().deprecations().isEmpty());
  }

  /**
   * A rollback starts an earlier jar beside a configuration written for a later release: a key that says the release
   * that added it is ignored, with a warning, by a jar before that release, and read by one that knows it. Without a
   * release, or with one that is not later, an unknown key is still a typo.
   */
  @Test
  void keysOfALaterReleaseAreIgnoredWithAWarningAndTyposStillFail() throws Exception {
    String later = "99.0.0";
    Path file = write("{\"fib\":{\"timeoutMs\":4000,\"prefetchBytes@" + later + "\":67108864},\"tracing@" + later
      + "\":{\"enabled\":true}}");
    Settings s = Settings.load(file, true, Map.of(), Map.of("http.compression@" + later, "true"));
    assertEquals(4000, s.getInt(Settings.FIB_TIMEOUT_MS), "the file's other keys still load");
    assertEquals(List.of("config key fib.prefetchBytes (from " + file + ") comes with release " + later + ", later than"
        + " this one (" + Version.current() + "): ignored",
      "config key tracing.enabled (from " + file + ") comes with release " + later + ", later than this one ("
        + Version.current() + "): ignored",
      "config key http.compression (from command line) comes with release " + later + ", later than this one ("
        + Version.current() + "): ignored"), s.ignored());
    assertTrue(s.deprecations().isEmpty());
    assertTrue(Settings.defaults().ignored().isEmpty());
    // a release that knows the key reads it, whatever release it names, with the checks of the key itself
    assertEquals(5000, Settings.load(write("{\"fib\":{\"timeoutMs@0.1.0\":5000}}"), true, Map.of(), Map.of())
      .getInt(Settings.FIB_TIMEOUT_MS));
    assertEquals(6000, Settings.defaults().with(Map.of("fib.timeoutMs@" + later, "6000")).getInt(Settings.FIB_TIMEOUT_MS));
    assertEquals(3, Settings.load(null, false, Map.of(), Map.of("workerInstances@0.1.0", "3"))
      .getInt(Settings.FIB_HEAVY_WORKERS), "an old name with its release");
    assertBad("fib.timeoutMs: '0' is not accepted (from command line)", null, Map.of(),
      Map.of("fib.timeoutMs@0.1.0", "0"));
    Path quoted = write("{\"fib\":{\"timeoutMs@0.1.0\":\"5000\"}}");
    assertBad("fib.timeoutMs@0.1.0: '5000' is not accepted (from " + quoted + ")", quoted, Map.of(), Map.of());
    // an unknown key that says an earlier release (or this one) is a typo: exit 2, as without a release
    assertBad("unknown config key 'fib.timeotMs' (from command line); it says it came with release 0.1.0, which is not"
      + " later than this one (" + Version.current() + "), so it is no key of a later release", null, Map.of(),
      Map.of("fib.timeotMs@0.1.0", "5000"));
    assertBad("unknown config key 'fib.timeotMs'", null, Map.of(),
      Map.of("fib.timeotMs@" + Version.current(), "5000"));
    assertBad("config key fib.cacheBytes@latest (from command line): 'latest' after the @ is not a release; expected"
      + " MAJOR.MINOR.PATCH", null, Map.of(), Map.of("fib.cacheBytes@latest", "1"));
  }

  @Test
  void secretsAreNeverPrinted() throws Exception {
    assertTrue(Settings.MYSQL_PASSWORD.secret(), "mysql.password is a secret");
    Settings s = Settings.load(null, false, Map.of("FIB_MYSQL_PASSWORD", "S3cret-env"), Map.of());
    assertEquals("S3cret-env", s.getString(Settings.MYSQL_PASSWORD), "the value itself is kept");
    String described = String.join("\n", s.describe());
    assertTrue(described.contains("mysql.password=" + Key.MASK + " (environment FIB_MYSQL_PASSWORD)"), described);
    assertTrue(!described.contains("S3cret"), described);
    assertTrue(String.join("\n", Settings.defaults().describe()).contains("mysql.password= (default)"),
      "an empty password shows as empty: that none is set is no secret");
    // a bad value of a secret is not echoed in the error either (a number in the file is the wrong type)
    Path file = write("{\"mysql\":{\"password\":123456789}}");
    ConfigException e = assertThrows(ConfigException.class, () -> Settings.load(file, true, Map.of(), Map.of()));
    assertTrue(e.getMessage().startsWith("mysql.password: a secret value (" + Key.MASK + ") is not accepted"),
      e.getMessage());
    assertTrue(!e.getMessage().contains("123456789"), e.getMessage());
    for (Key key : Settings.KEYS) {
      // a key that names a file holding a secret (mysql.passwordFile) is a path, not the secret
      String name = key.name().toLowerCase(java.util.Locale.ROOT);
      boolean secretName = name.matches(".*(password|secret|token).*") && !name.endsWith("file");
      assertEquals(secretName, key.secret(), key.name() + ": a key whose name says secret must be marked Key.secret");
    }
  }

  @Test
  void missingDefaultFileIsSkippedButMissingNamedFileIsAnError() {
    assertEquals(8080, Settings.load(dir.resolve("none.json"), false, Map.of(), Map.of()).getInt(Settings.HTTP_PORT));
    assertThrows(ConfigException.class, () -> Settings.load(dir.resolve("none.json"), true, Map.of(), Map.of()));
  }

  private Path write(String json) throws Exception {
    Path file = Files.createTempFile(dir, "conf", ".json");
    Files.writeString(file, json);
    return file;
  }

  private static void assertBad(String expected, Path file, Map<String, String> env, Map<String, String> flags) {
    ConfigException e = assertThrows(ConfigException.class, () -> Settings.load(file, true, env, flags));
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should contain '" + expected + "'");
    assertTrue(!e.getMessage().contains("\n"), "one line");
  }
}
