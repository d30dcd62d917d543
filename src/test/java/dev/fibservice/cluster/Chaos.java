package dev.fibservice.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One chaos run from start to verdict, for ChaosIT ({@code make test}) and the bench's {@code chaos} scenario: the
 * schedule drawn from the seed, the cluster started, the run, the checker, and three files in {@code out}:
 * {@code <name>-history.jsonl} (the faults' windows, then every operation), {@code <name>-verdict.json} and a
 * paragraph of Markdown returned for the caller's report.
 */
public final class Chaos {

  private Chaos() {
  }

  /** What to run: the seed, the faults, their calms and lengths, the load's rate, the calm after the last heal. */
  public record Plan(long seed, int faults, boolean everyKind, long minMs, long maxMs, double rate, long tailMs) {
  }

  /** The verdict: every rule's result, and the run's own figures. */
  public record Verdict(Plan plan, List<ChaosChecker.Rule> rules, ChaosRun.Result result, Map<MixedLoad.Outcome, Long>
    outcomes, long seconds, String notes) {
    public boolean passed() {
      return rules.stream().allMatch(ChaosChecker.Rule::holds);
    }

    public String markdown() {
      StringBuilder md = new StringBuilder();
      md.append(String.format(Locale.ROOT, "### Seed %d: %s%n%n", plan.seed(), passed() ? "passed" : "**FAILED**"));
      md.append(String.format(Locale.ROOT, "%d faults (calms and faults of %d–%d ms), the mixed load at %.0f"
          + " operations/s: %d sent, %d skipped, outcomes %s; %d s in all.%n%n", plan.faults(), plan.minMs(),
        plan.maxMs(), plan.rate(), result.sent(), result.skipped(), outcomes, seconds));
      md.append("```\n").append(notes).append("```\n\n");
      md.append("| rule | holds | what was checked | violations (first 5) |\n|---|---|---|---|\n");
      for (ChaosChecker.Rule r : rules) {
        md.append("| ").append(r.name()).append(" | ").append(r.holds() ? "yes" : "**no**").append(" | ")
          .append(r.checked().replace("|", "\\|")).append(" | ")
          .append(String.join("; ", r.violations().subList(0, Math.min(5, r.violations().size()))).replace("|", "\\|"))
          .append(r.violations().size() > 5 ? " (" + r.violations().size() + " in all)" : "").append(" |\n");
      }
      return md.append('\n').toString();
    }
  }

  /** Runs it; the cluster is gone when this returns, whatever happened. */
  public static Verdict run(Plan plan, Path work, Path out, String name) throws Exception {
    long started = System.nanoTime();
    ChaosSchedule schedule = ChaosSchedule.draw(plan.seed(), plan.faults(), plan.everyKind(), plan.minMs(),
      plan.maxMs());
    System.out.println("chaos: seed " + plan.seed() + ", schedule " + schedule.faults());
    Files.createDirectories(out);
    try (ChaosRun run = ChaosRun.start(plan.seed(), schedule, work)) {
      ChaosRun.Result result = run.run(plan.rate(), plan.tailMs());
      ChaosChecker checker = new ChaosChecker(run, result, ChaosSchedule.draw(plan.seed(), plan.faults(),
        plan.everyKind(), plan.minMs(), plan.maxMs()));
      List<ChaosChecker.Rule> rules = checker.check();
      run.writeHistory(out.resolve(name + "-history.jsonl"));
      Map<MixedLoad.Outcome, Long> outcomes = new java.util.EnumMap<>(MixedLoad.Outcome.class);
      for (MixedLoad.Op op : run.history()) {
        outcomes.merge(op.outcome(), 1L, Long::sum);
      }
      Verdict v = new Verdict(plan, rules, result, outcomes, (System.nanoTime() - started) / 1_000_000_000L,
        run.notes());
      JsonArray rs = new JsonArray();
      for (ChaosChecker.Rule r : rules) {
        rs.add(new JsonObject().put("rule", r.name()).put("holds", r.holds()).put("checked", r.checked())
          .put("violations", new JsonArray(r.violations())));
      }
      Files.writeString(out.resolve(name + "-verdict.json"), new JsonObject().put("seed", plan.seed())
        .put("passed", v.passed()).put("schedule", new JsonArray(schedule.faults().stream().map(Object::toString)
          .toList())).put("sent", result.sent()).put("skipped", result.skipped()).put("rules", rs)
        .encodePrettily() + "\n");
      for (ChaosChecker.Rule r : rules) {
        System.out.println("chaos: " + (r.holds() ? "holds " : "FAILS ") + r.name() + ": " + r.checked()
          + (r.holds() ? "" : "\n  " + String.join("\n  ", r.violations().subList(0, Math.min(20,
          r.violations().size())))));
      }
      if (!v.passed()) {
        System.out.println(run.logs());
      }
      return v;
    }
  }
}
