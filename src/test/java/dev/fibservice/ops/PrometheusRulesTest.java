package dev.fibservice.ops;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The alerting and recording rules of conf/prometheus/: Prometheus's own {@code promtool} checks them and runs their
 * unit tests (fib-service.rules.test.yml: each alert fires on what should fire it, and not on its healthy neighbours);
 * skipped, with one line, where promtool is not installed ({@code make test-tools} installs it). That every metric
 * they name exists is checked against real scrapes: PromtoolTest (a node with its database), ClusterIT (a front and
 * its worker members).
 */
class PrometheusRulesTest {

  @Test
  void promtoolFindsTheRulesValidAndTheirTestsPass() throws Exception {
    Path promtool = PromtoolTest.promtool();
    assumeTrue(promtool != null, "promtool is not installed: skipping the rules' tests (make test-tools, as root,"
      + " installs it)");
    String checked = run(promtool, "check", "rules", RuleMetrics.RULES.toString());
    assertTrue(checked.contains("SUCCESS") && !checked.contains("WARNING"), checked);
    String tested = run(promtool, "test", "rules", RuleMetrics.RULE_TESTS.toString());
    assertTrue(tested.contains("SUCCESS"), tested);
  }

  @Test
  void theMetricsTheRulesNameAreFoundInTheirExpressions() throws Exception {
    Set<String> names = RuleMetrics.names();
    for (String name : List.of("up", "fib_cluster_member_state", "fib_cluster_members",
      "fib_http_server_requests_seconds_count", "fib_http_fib_requests_seconds_bucket", "fib_http_fib_requests_seconds_count", "fib_rejected_total", "fib_jobs",
      "fib_jobs_oldest_pending_seconds", "fib_database_up", "fib_event_loop_blocked_total")) {
      assertTrue(names.contains(name), name + " in " + names);
    }
    for (String notAMetric : List.of("sum", "rate", "histogram_quantile", "le", "lane", "status", "job", "max",
      "increase", "or", "by", "fib:jobs:max")) {
      assertTrue(!names.contains(notAMetric), notAMetric + " is no metric: " + names);
    }
    assertEquals(Set.of("fib_a", "fib_b_total"), RuleMetrics.names(
      "sum by (le, lane) (rate(fib_a{code=~\"5..\", x=\"y{}\"}[5m])) / on (job) group_left(instance) fib_b_total > 0.5"
        + " or fib:recorded:rate5m"));
  }

  private static String run(Path promtool, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(promtool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + said);
    return said;
  }
}
