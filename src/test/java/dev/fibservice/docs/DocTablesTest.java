package dev.fibservice.docs;

import dev.fibservice.api.Addresses;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The doc tables that mirror code stand each in one docs/ file and say what the code does: the error codes, the
 * limits, the event-bus addresses, the make targets, the README's short table of keys. (The config table and the
 * bridges' permission table are compared row by row in SettingsTest and PermissionsTest.)
 */
class DocTablesTest {

  static final String CONFIG_TABLE = "| key | environment | default | accepted | meaning |";
  static final String PERMISSION_TABLE = "| address | a client may | what it does |";
  static final String ERROR_TABLE = "| status | when |";
  static final String LIMITS_TABLE = "| limit | key (default) | answer |";
  static final String README_KEYS_TABLE = "| key | environment | default | change it to |";

  /** Where a status code is made in the sources: a literal given to what answers with it. */
  private static final List<Pattern> STATUS_SITES = Stream.of(
      "new ServiceError\\(\\s*(\\d{3})", "new RejectedRequest\\(\\s*(\\d{3})", "errorHandler\\(\\s*(\\d{3})",
      "\\blimit\\(\\s*(\\d{3})", "\\bcase (\\d{3})\\s*->", "setStatusCode\\(\\s*(\\d{3})", "\\.fail\\(\\s*(\\d{3})",
      "new ReplyException\\([^,]+,\\s*(\\d{3})", "static final int [A-Z_]+ = (\\d{3});")
    .map(Pattern::compile).toList();
  private static final Pattern LIMIT_CELL = Pattern.compile("`([a-zA-Z][\\w.]*)` \\(([^)]*)\\)");
  private static final Pattern MAKE = Pattern.compile("(?<![\\w/.-])make\\s+([a-z][\\w-]*)([^;&|]*)");

  @Test
  void eachTableStandsInExactlyOneDocsFile() {
    Map<String, String> home = new LinkedHashMap<>();
    home.put(CONFIG_TABLE, "docs/configuration.md");
    home.put(PERMISSION_TABLE, "docs/clients.md");
    home.put(ERROR_TABLE, "docs/http-api.md");
    home.put(LIMITS_TABLE, "docs/operations.md");
    List<String> problems = new ArrayList<>();
    home.forEach((header, file) -> {
      List<String> found = new ArrayList<>();
      for (Path doc : Markdown.docFiles()) {
        int n = Markdown.count(Markdown.read(doc), header);
        for (int i = 0; i < n; i++) {
          found.add(doc.toString().replace('\\', '/'));
        }
      }
      if (!found.equals(List.of(file))) {
        problems.add(header + " should be in " + file + " alone, found in " + found);
      }
    });
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void theErrorTableHasEveryStatusTheCodeAnswers() throws IOException {
    Set<Integer> produced = new TreeSet<>();
    try (Stream<Path> sources = Files.walk(Path.of("src", "main", "java"))) {
      for (Path source : sources.filter(p -> p.toString().endsWith(".java"))
        .filter(p -> !p.toString().replace('\\', '/').contains("dev/fibservice/bench/")).toList()) {
        String code = Files.readString(source);
        for (Pattern site : STATUS_SITES) {
          Matcher m = site.matcher(code);
          while (m.find()) {
            int status = Integer.parseInt(m.group(1));
            if (status >= 400 && status < 600) {
              produced.add(status);
            }
          }
        }
      }
    }
    assertTrue(produced.containsAll(Set.of(400, 404, 413, 499, 500, 503, 504)),
      "the scan of the sources misses statuses it should see: " + produced);
    List<List<String>> rows = Markdown.table(Markdown.read(Path.of("docs/http-api.md")), ERROR_TABLE);
    assertNotNull(rows, "docs/http-api.md lacks the error table " + ERROR_TABLE);
    Set<Integer> documented = new TreeSet<>();
    for (List<String> row : rows) {
      Matcher m = Pattern.compile("\\b([45]\\d\\d)\\b").matcher(row.get(0));
      while (m.find()) {
        documented.add(Integer.parseInt(m.group(1)));
      }
    }
    Set<Integer> undocumented = new TreeSet<>(produced);
    undocumented.removeAll(documented);
    Set<Integer> unknown = new TreeSet<>(documented);
    unknown.removeAll(produced);
    assertTrue(undocumented.isEmpty() && unknown.isEmpty(), "docs/http-api.md's error table: statuses the code"
      + " answers with but the table lacks " + undocumented + "; statuses in the table the code never makes " + unknown);
  }

  @Test
  void theLimitsTableNamesEveryLimitKeyWithItsDefault() {
    List<List<String>> rows = Markdown.table(Markdown.read(Path.of("docs/operations.md")), LIMITS_TABLE);
    assertNotNull(rows, "docs/operations.md lacks the limits table " + LIMITS_TABLE);
    List<String> problems = new ArrayList<>();
    Set<String> named = new HashSet<>();
    for (List<String> row : rows) {
      Matcher m = LIMIT_CELL.matcher(row.get(1));
      boolean any = false;
      while (m.find()) {
        any = true;
        Key key = Settings.KEYS.stream().filter(k -> k.name().equals(m.group(1))).findFirst().orElse(null);
        if (key == null) {
          problems.add("`" + m.group(1) + "` is no config key");
          continue;
        }
        named.add(key.name());
        String why = defaultMismatch(key, m.group(2));
        if (why != null) {
          problems.add(key.name() + ": " + why);
        }
      }
      if (!any) {
        problems.add("a row names no key as `key` (default): " + row);
      }
    }
    for (Key key : Settings.KEYS) {
      if (isLimit(key) && !named.contains(key.name())) {
        problems.add(key.name() + " is a limit the table lacks (default " + key.defaultValue() + ")");
      }
    }
    assertTrue(problems.isEmpty(), "docs/operations.md's limits table:\n" + String.join("\n", problems));
  }

  /** A limit: a key with a segment starting with "max", or one about a timeout, or the pool's wait queue. */
  static boolean isLimit(Key key) {
    for (String segment : key.name().split("\\.")) {
      if (segment.startsWith("max") || segment.toLowerCase(Locale.ROOT).contains("timeout")) {
        return true;
      }
    }
    return key.name().equals("mysql.waitQueueSize");
  }

  /** Why {@code shown} (such as "64 KiB", "10 s", "10000") is not the key's default in the key's unit, or null. */
  static String defaultMismatch(Key key, String shown) {
    Matcher m = Pattern.compile("(\\d+) ?(KiB|MiB|ms|s|min)?").matcher(shown);
    if (!m.matches()) {
      return "'" + shown + "' is not a number with an optional unit";
    }
    long factor;
    String unit = m.group(2) == null ? "" : m.group(2);
    String name = key.name();
    if (name.endsWith("Bytes")) {
      factor = switch (unit) { case "" -> 1; case "KiB" -> 1024; case "MiB" -> 1024 * 1024; default -> -1; };
    } else if (name.endsWith("Ms")) {
      factor = switch (unit) { case "", "ms" -> 1; case "s" -> 1000; case "min" -> 60_000; default -> -1; };
    } else if (name.endsWith("Seconds")) {
      factor = switch (unit) { case "", "s" -> 1; case "min" -> 60; default -> -1; };
    } else {
      factor = unit.isEmpty() ? 1 : -1;
    }
    if (factor < 0) {
      return "the unit '" + unit + "' does not fit the key";
    }
    long value = Long.parseLong(m.group(1)) * factor;
    return String.valueOf(value).equals(String.valueOf(key.defaultValue())) ? null
      : "the table says " + shown + " (" + value + "), the default is " + key.defaultValue();
  }

  @Test
  void everyEventBusAddressIsNamedInTheClientsDoc() throws Exception {
    String clients = Markdown.read(Path.of("docs/clients.md"));
    List<String> names = new ArrayList<>();
    for (Field field : Addresses.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        names.add((String) field.get(null));
      }
    }
    names.add(Addresses.computeOn("<id>"));
    names.add(Addresses.pingOn("<id>"));
    assertTrue(names.size() > 10, "Addresses has " + names);
    List<String> missing = names.stream().filter(a -> !clients.contains("`" + a + "`")).toList();
    assertTrue(missing.isEmpty(), "docs/clients.md does not name these event-bus addresses and headers: " + missing);
  }

  @Test
  void everyMakeTargetTheDocsShowExists() {
    String makefile = Markdown.read(Path.of("Makefile"));
    Set<String> targets = new HashSet<>();
    Matcher t = Pattern.compile("(?m)^([a-zA-Z][\\w-]*)\\s*:(?!=)").matcher(makefile);
    while (t.find()) {
      targets.add(t.group(1));
    }
    List<String> problems = new ArrayList<>();
    int shown = 0;
    for (Path doc : Markdown.docFiles()) {
      for (String code : Markdown.code(Markdown.read(doc))) {
        Matcher m = MAKE.matcher(code);
        while (m.find()) {
          shown++;
          if (!targets.contains(m.group(1))) {
            problems.add(doc + ": `make " + m.group(1) + "`: the Makefile has no such target");
          }
          Matcher var = Pattern.compile("(?<![\\w-])([A-Z][A-Z_]+)=").matcher(m.group(2));
          while (var.find()) {
            if (!Pattern.compile("\\b" + var.group(1) + "\\b").matcher(makefile).find()) {
              problems.add(doc + ": `make " + m.group(1) + " " + var.group(1) + "=...`: the Makefile never reads "
                + var.group(1));
            }
          }
        }
      }
    }
    assertTrue(shown > 10, "only " + shown + " make commands found in the docs: is the pattern still right?");
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void theReadmesShortTableOfKeysHasTheirNamesAndDefaults() {
    List<List<String>> rows = Markdown.table(Markdown.read(Path.of("README.md")), README_KEYS_TABLE);
    assertNotNull(rows, "README.md lacks its table of the keys people change: " + README_KEYS_TABLE);
    assertEquals(10, rows.size(), "the ten keys people change");
    for (List<String> row : rows) {
      String name = row.get(0).replace("`", "");
      Key key = Settings.KEYS.stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
      assertNotNull(key, "README.md names a key that does not exist: " + name);
      assertEquals("`" + key.envName() + "`", row.get(1), name + "'s environment variable in README.md");
      assertEquals(String.valueOf(key.defaultValue()), row.get(2), name + "'s default in README.md");
    }
  }
}
