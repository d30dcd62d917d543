package dev.fibservice.bench;

import dev.fibservice.cluster.Chaos;
import dev.fibservice.cluster.ChaosRun;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code make bench ARGS=chaos}: the chaos run of ChaosIT, longer and on several seeds: {@code chaos.seeds} (1,2,3),
 * {@code chaos.faults} (10 per seed, the first five one of each kind), calms and faults of {@code chaos.minMs} to
 * {@code chaos.maxMs} (3000–8000), the load at {@code chaos.rate} operations/s (10). Each seed's history and verdict in
 * bench/results/{@code <date>-chaos-seed-N-*}, and one report {@code <date>-chaos.md}.
 */
final class ChaosScenario {

  private ChaosScenario() {
  }

  static void run(Path jar, Path outDir, Path work) throws Exception {
    System.setProperty("fib.jar", jar.toString());
    String tag = System.getProperty("chaos.tag", BenchSuite.today() + "-chaos");
    String why = ChaosRun.unavailable();
    Files.createDirectories(outDir);
    StringBuilder md = new StringBuilder("# Chaos, " + tag + "\n\n");
    if (why != null) {
      md.append("Skipped: ").append(why).append(".\n");
      Files.writeString(outDir.resolve(tag + ".md"), md.toString());
      System.out.println("   chaos: skipped: " + why);
      return;
    }
    String loadBefore = SuiteReport.loadAverage();
    List<Chaos.Verdict> verdicts = new ArrayList<>();
    for (String s : System.getProperty("chaos.seeds", "1,2,3").split(",")) {
      long seed = Long.parseLong(s.strip());
      Chaos.Plan plan = new Chaos.Plan(seed, Integer.getInteger("chaos.faults", 10), true,
        Long.getLong("chaos.minMs", 3000), Long.getLong("chaos.maxMs", 8000),
        Double.parseDouble(System.getProperty("chaos.rate", "10")), 5000);
      verdicts.add(Chaos.run(plan, work.resolve("chaos-seed-" + seed), outDir, tag + "-seed-" + seed));
    }
    long passed = verdicts.stream().filter(Chaos.Verdict::passed).count();
    md.append("`make bench ARGS=chaos`, ").append(BenchSuite.now()).append(": the cluster across network namespaces"
      + " (a front, two workers, the database process on a host of its own, event-bus TLS) under the mixed load of"
      + " `MixedLoad`, while a schedule of faults drawn from each seed strikes and heals (ChaosIT runs the same,"
      + " shorter, in `make test`). The checker's rules are those of `ChaosChecker` ([testing](../../docs/testing.md"
      + "#chaos)). **").append(passed).append(" of ").append(verdicts.size()).append(" seeds passed.** Load average"
      + " (1, 5, 15 min) before ").append(loadBefore).append(", after ").append(SuiteReport.loadAverage())
      .append(" (2 cores shared with other work).\n\n");
    for (Chaos.Verdict v : verdicts) {
      md.append(v.markdown());
      md.append("History: [").append(tag).append("-seed-").append(v.plan().seed()).append("-history.jsonl](")
        .append(tag).append("-seed-").append(v.plan().seed()).append("-history.jsonl), verdict: [")
        .append(tag).append("-seed-").append(v.plan().seed()).append("-verdict.json](").append(tag).append("-seed-")
        .append(v.plan().seed()).append("-verdict.json).\n\n");
    }
    Files.writeString(outDir.resolve(tag + ".md"), md.toString());
    System.out.println("   chaos: " + passed + " of " + verdicts.size() + " seeds passed; " + outDir.resolve(tag + ".md"));
  }
}
