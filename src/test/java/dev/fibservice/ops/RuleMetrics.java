package dev.fibservice.ops;

import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names the Prometheus rules of conf/prometheus/ read: every series selector of every expression, less
 * functions, aggregations and keywords, the label lists of {@code by (...)} and the like, and the rules' own recorded
 * series (names with a colon), so that tests can check each against a real scrape.
 */
public final class RuleMetrics {

  public static final Path RULES = Path.of("conf", "prometheus", "fib-service.rules.yml");
  public static final Path RULE_TESTS = Path.of("conf", "prometheus", "fib-service.rules.test.yml");

  /** Series Prometheus makes itself, not the service. */
  public static final Set<String> FROM_PROMETHEUS = Set.of("up");

  private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "inf", "nan");
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  private RuleMetrics() {
  }

  /** Every metric name the rules' expressions select, recorded series (with a colon) excepted. */
  public static Set<String> names() throws IOException {
    Set<String> names = new TreeSet<>();
    for (String expr : expressions()) {
      names.addAll(names(expr));
    }
    return names;
  }

  /** The names one expression selects. */
  static Set<String> names(String expr) {
    String plain = expr
      .replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")                                    // strings
      .replaceAll("\\{[^}]*}", " ")                                                    // label matchers
      .replaceAll("\\[[^]]*]", " ")                                                    // ranges
      .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // label lists
      .replaceAll("\\b\\d+(\\.\\d+)?([eE][-+]?\\d+)?\\b", " ");                          // numbers
    Set<String> names = new TreeSet<>();
    Matcher m = NAME.matcher(plain);
    while (m.find()) {
      String name = m.group();
      boolean call = plain.substring(m.end()).stripLeading().startsWith("(");
      if (!call && !KEYWORDS.contains(name.toLowerCase(java.util.Locale.ROOT)) && !name.contains(":")) {
        names.add(name);
      }
    }
    return names;
  }

  @SuppressWarnings("unchecked")
  private static List<String> expressions() throws IOException {
    try (Reader in = Files.newBufferedReader(RULES)) {
      Map<String, Object> root = new Yaml().load(in);
      return ((List<Map<String, Object>>) root.get("groups")).stream()
        .flatMap(group -> ((List<Map<String, Object>>) group.get("rules")).stream())
        .map(rule -> String.valueOf(rule.get("expr")))
        .toList();
    }
  }

  /** Those of {@code names} that a scrape (the Prometheus text format) has no sample of. */
  public static Set<String> missingFrom(Set<String> names, String... scrapes) {
    Set<String> missing = new TreeSet<>();
    for (String name : names) {
      boolean found = false;
      for (String scrape : scrapes) {
        found |= scrape.lines().anyMatch(l -> l.startsWith(name + "{") || l.startsWith(name + " "));
      }
      if (!found) {
        missing.add(name);
      }
    }
    return missing;
  }
}
