package dev.fibservice.cluster;

import io.vertx.core.json.JsonObject;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Judges a chaos run's history once every fault is healed. Each rule gives a line of what it checked and the
 * violations it found (none: it holds):
 * <ol>
 *   <li><b>values</b>: every answered F(n) (HTTP, TCP, bridge, SockJS) is exactly this client's own F(n), by SHA-256
 *   of the digits for big n;</li>
 *   <li><b>people</b>: every acknowledged write (201) is there at the end, every refused one (4xx) is not; a write
 *   with no answer, or a 5xx, may or may not have committed (indeterminate, counted);</li>
 *   <li><b>jobs</b>: every job accepted (202) ends DONE, once: one id per submission, its result exactly F(n);</li>
 *   <li><b>deadlines</b>: no computation outlived {@code fib.timeoutMs} by more than {@link #SLACK_MS} (the bus's
 *   margin of the client library's last attempt, {@code fib.timeoutMs} + 5 s), less the time its front was stopped
 *   (a front frozen by SIGSTOP keeps no time);</li>
 *   <li><b>availability</b>: no {@code /fib} fails while only one worker is down (killed, stopped or cut off) and
 *   every earlier fault has been healed for {@link #SETTLE_MS} ms: the other worker serves (what PartitionIT held);</li>
 *   <li><b>ready</b>: after the last heal every member is ready and the front reaches both workers;</li>
 *   <li><b>seed</b>: the seed draws the same schedule again, and every operation in the history is the one the seed
 *   gives its sequence number.</li>
 * </ol>
 */
public final class ChaosChecker {

  static final long SLACK_MS = 5_000;
  static final long SETTLE_MS = 10_000;

  /** One rule's result. */
  public record Rule(String name, String checked, List<String> violations) {
    public boolean holds() {
      return violations.isEmpty();
    }
  }

  private final ChaosRun run;
  private final ChaosRun.Result result;
  private final ChaosSchedule drawnAgain;
  private final List<MixedLoad.Op> ops;
  private final List<ChaosRun.Window> windows;

  ChaosChecker(ChaosRun run, ChaosRun.Result result, ChaosSchedule drawnAgain) {
    this.run = run;
    this.result = result;
    this.drawnAgain = drawnAgain;
    this.ops = run.history();
    this.windows = run.windows();
  }

  public List<Rule> check() throws Exception {
    return List.of(values(), people(), jobs(), deadlines(), availability(), ready(), seed());
  }

  private static boolean computes(MixedLoad.Kind k) {
    return switch (k) {
      case LIGHT_FIB, HEAVY_FIB, BIG_FIB, TCP, BRIDGE, SOCKJS -> true;
      default -> false;
    };
  }

  private static int n(String input) {
    String s = input.startsWith("/fib/") ? input.substring(5) : input;
    return Integer.parseInt(s.split("[?| ]")[0]);
  }

  Rule values() {
    List<String> bad = new ArrayList<>();
    long checked = 0;
    for (MixedLoad.Op op : ops) {
      if (op.outcome() == MixedLoad.Outcome.WRONG) {
        bad.add("#" + op.seq() + " " + op.kind() + " " + op.input() + ": " + op.value() + " " + op.detail());
        continue;
      }
      if (op.outcome() != MixedLoad.Outcome.OK || !computes(op.kind())) {
        continue;
      }
      checked++;
      String want = switch (op.kind()) {
        case BIG_FIB -> "sha256:" + MixedLoad.Reference.sha(n(op.input()));
        case TCP -> {
          List<String> values = new ArrayList<>();
          for (String line : op.input().split("\\|")[0].split(",")) {
            values.add(MixedLoad.Reference.fib(Integer.parseInt(line.split(" ")[0])));
          }
          yield String.join(",", values);
        }
        default -> MixedLoad.Reference.fib(n(op.input()));
      };
      if (!want.equals(op.value())) {
        bad.add("#" + op.seq() + " " + op.kind() + " " + op.input() + ": " + op.value());
      }
    }
    return new Rule("values", checked + " answers of F(n) checked against BigInteger (big n by SHA-256)", bad);
  }

  Rule people() throws Exception {
    List<String> bad = new ArrayList<>();
    int acked = 0;
    int refused = 0;
    int unknownThere = 0;
    int unknownAbsent = 0;
    for (MixedLoad.Op op : ops) {
      if (op.kind() != MixedLoad.Kind.PEOPLE_WRITE) {
        continue;
      }
      String name = op.input().split(" ")[1];
      int status = readStatus("/people/" + name);
      switch (op.outcome()) {
        case OK -> {
          acked++;
          if (status != 200) {
            bad.add("acknowledged #" + op.seq() + " " + op.input() + " (" + op.status() + "): now " + status);
          }
        }
        case REFUSED -> {
          refused++;
          if (status != 404) {
            bad.add("refused #" + op.seq() + " " + op.input() + " (" + op.status() + "): now " + status);
          }
        }
        default -> {
          if (status == 200) {
            unknownThere++;
          } else if (status == 404) {
            unknownAbsent++;
          } else {
            bad.add("indeterminate #" + op.seq() + " " + op.input() + ": unreadable at the end (" + status + ")");
          }
        }
      }
    }
    return new Rule("people", String.format("%d acknowledged writes present, %d refused absent; %d indeterminate"
      + " (no answer or 5xx): %d committed, %d not", acked, refused, unknownThere + unknownAbsent, unknownThere,
      unknownAbsent), bad);
  }

  /** The status of a GET at the end, retried a few times over a 5xx or no answer (the cluster has just healed). */
  private int readStatus(String path) throws InterruptedException {
    int status = -1;
    for (int i = 0; i < 5; i++) {
      try {
        status = run.get(path).statusCode();
        if (status < 500) {
          return status;
        }
      } catch (java.io.IOException e) {
        status = -1;
      }
      Thread.sleep(500);
    }
    return status;
  }

  Rule jobs() throws Exception {
    List<String> bad = new ArrayList<>();
    Map<String, MixedLoad.Op> byId = new LinkedHashMap<>();
    for (MixedLoad.Op op : ops) {
      if (op.kind() == MixedLoad.Kind.JOB && op.outcome() == MixedLoad.Outcome.OK) {
        if (byId.put(op.value(), op) != null) {
          bad.add("job id " + op.value() + " given to two submissions");
        }
      }
    }
    Map<Integer, Integer> attempts = new TreeMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    for (Map.Entry<String, MixedLoad.Op> e : byId.entrySet()) {
      JsonObject job = null;
      while (System.nanoTime() < deadline) {
        HttpResponse<String> r = get("/jobs/" + e.getKey());
        if (r != null && r.statusCode() == 200) {
          job = new JsonObject(r.body());
          if (List.of("DONE", "FAILED", "CANCELLED").contains(job.getString("status"))) {
            break;
          }
        }
        Thread.sleep(500);
      }
      int n = new JsonObject(e.getValue().input()).getInteger("n");
      if (job == null || !"DONE".equals(job.getString("status"))) {
        bad.add("job " + e.getKey() + " (n=" + n + ", #" + e.getValue().seq() + ") did not end DONE: "
          + (job == null ? "unreadable" : job.encode()));
        continue;
      }
      attempts.merge(job.getInteger("attempts", 0), 1, Integer::sum);
      HttpResponse<String> result = get("/jobs/" + e.getKey() + "/result");
      String want = MixedLoad.Reference.fib(n);
      if (result == null || result.statusCode() != 200 || !want.equals(result.body().strip())) {
        bad.add("job " + e.getKey() + " (n=" + n + ") DONE but its result is not F(n): " + (result == null ? "unreadable"
          : result.statusCode() + ", " + result.body().length() + " characters"));
      } else if (job.getInteger("digits", -1) != want.length()) {
        bad.add("job " + e.getKey() + " says " + job.getInteger("digits") + " digits, F(" + n + ") has " + want.length());
      }
    }
    return new Rule("jobs", byId.size() + " jobs accepted, each DONE once with F(n) as its result; attempts: "
      + attempts, bad);
  }

  private HttpResponse<String> get(String path) throws InterruptedException {
    try {
      return run.get(path);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  Rule deadlines() {
    List<String> bad = new ArrayList<>();
    long checked = 0;
    long worst = 0;
    long allowed = ChaosRun.TIMEOUT_MS + SLACK_MS;
    for (MixedLoad.Op op : ops) {
      if (!computes(op.kind()) || op.outcome() == MixedLoad.Outcome.ABANDONED) {
        continue;
      }
      checked++;
      long took = TimeUnit.NANOSECONDS.toMillis(op.endNanos() - op.startNanos());
      long frozen = 0;
      for (ChaosRun.Window w : windows) {
        if (w.fault().kind() == ChaosSchedule.Kind.STOP_MEMBER && NamespacedCluster.FRONT.equals(w.fault().target())) {
          frozen += Math.max(0, Math.min(op.endNanos(), w.healedNanos()) - Math.max(op.startNanos(), w.startNanos()));
        }
      }
      long over = took - TimeUnit.NANOSECONDS.toMillis(frozen);
      worst = Math.max(worst, over);
      if (over > allowed) {
        bad.add(String.format("#%d %s %s: %d ms (%d ms of it with the front stopped), %s %s", op.seq(), op.kind(),
          op.input(), took, TimeUnit.NANOSECONDS.toMillis(frozen), op.outcome(), op.detail() == null ? ""
            : op.detail().length() > 120 ? op.detail().substring(0, 120) : op.detail()));
      }
    }
    return new Rule("deadlines", checked + " computations each within fib.timeoutMs " + ChaosRun.TIMEOUT_MS + " ms + "
      + SLACK_MS + " ms (time with the front stopped not counted); the longest " + worst + " ms", bad);
  }

  Rule availability() {
    List<String> bad = new ArrayList<>();
    long checked = 0;
    for (MixedLoad.Op op : ops) {
      if (!(op.kind() == MixedLoad.Kind.LIGHT_FIB || op.kind() == MixedLoad.Kind.HEAVY_FIB
        || op.kind() == MixedLoad.Kind.BIG_FIB)) {
        continue;
      }
      ChaosRun.Window during = null;
      boolean settled = true;
      for (ChaosRun.Window w : windows) {
        boolean overlaps = op.startNanos() < w.healedNanos() && op.endNanos() > w.startNanos();
        boolean workerOnly = w.fault().target().startsWith("w") && w.fault().kind() != ChaosSchedule.Kind.RESTART_FRONT;
        if (overlaps && workerOnly && op.startNanos() >= w.startNanos() && op.endNanos() <= w.healedNanos()) {
          during = w;
        } else if (overlaps || w.healedNanos() <= op.startNanos()
          && op.startNanos() - w.healedNanos() < TimeUnit.MILLISECONDS.toNanos(SETTLE_MS)) {
          settled = false; // another fault at the same time, or one healed too lately
        }
      }
      if (during == null || !settled) {
        continue;
      }
      checked++;
      if (op.outcome() != MixedLoad.Outcome.OK) {
        bad.add("#" + op.seq() + " " + op.input() + " during " + during.fault() + ": " + op.outcome() + " "
          + op.status() + " " + (op.detail() == null ? "" : op.detail().length() > 160 ? op.detail().substring(0, 160)
          : op.detail()));
      }
    }
    return new Rule("availability", checked + " /fib requests made while only one worker was down (and the rest"
      + " healed for " + SETTLE_MS + " ms) all answered", bad);
  }

  Rule ready() {
    List<String> bad = new ArrayList<>();
    ChaosRun.Readiness r = result.readiness();
    r.members().forEach((m, state) -> {
      if (!"UP".equals(state)) {
        bad.add(m + " not ready after the last heal: " + state);
      }
    });
    if (!r.bothWorkersAnswer()) {
      bad.add("the front did not reach both workers after the last heal");
    }
    return new Rule("ready", "every member ready and both workers answering " + r.readyAfterMs() + " ms after the load"
      + " stopped: " + r.members(), bad);
  }

  Rule seed() {
    List<String> bad = new ArrayList<>();
    if (!drawnAgain.equals(run.schedule)) {
      bad.add("seed " + run.seed + " drew another schedule: " + drawnAgain.faults() + " vs " + run.schedule.faults());
    }
    MixedLoad.Plan plan = new MixedLoad.Plan(run.seed, MixedLoad.Mix.standard(true));
    Set<Long> seen = new HashSet<>();
    for (MixedLoad.Op op : ops) {
      seen.add(op.seq());
      if (plan.kind(op.seq()) != op.kind() || !plan.input(op.seq(), true).equals(op.input())) {
        bad.add("#" + op.seq() + " was " + op.kind() + " " + op.input() + "; the seed gives " + plan.kind(op.seq()) + " "
          + plan.input(op.seq(), true));
      }
    }
    long missing = result.sent() - seen.size();
    if (missing != result.skipped()) {
      bad.add(missing + " operations sent are missing from the history (" + result.skipped() + " were skipped)");
    }
    return new Rule("seed", "seed " + run.seed + ": the schedule drawn again is the same; the " + ops.size()
      + " operations are those of their sequence numbers (request sequence SHA-256 "
      + plan.digest(result.sent(), true).substring(0, 16) + "…)", bad);
  }
}
