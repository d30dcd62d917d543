package dev.fibservice.compute;

import dev.fibservice.math.Algorithm;
import dev.fibservice.math.BigFibonacci;
import dev.fibservice.math.Cancellation;
import dev.fibservice.math.EngineThreads;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A bounded background warm-up of the big-number engine: a fixed schedule of computations on the lowest-priority
 * threads, each result formatted as a reply is, so that the first large request of a fresh JVM finds the engine's
 * code and the result's formatting compiled and the engine's tables built. The
 * schedule bounds its CPU, a deadline its time; it never uses the heavy pool's threads. Once per JVM: the compiled code
 * and tables are shared by every node in it.
 */
public final class Warmup {

  /**
   * F(n) for these n, in order: many small products first raise the JIT's counters cheaply, then a few F(10^6) take the
   * paths of large transforms (parallel tasks, blocks beyond L1, the radix-3 pass at every level).
   */
  static final int[] SCHEDULE = {
    60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000,
    200_000, 200_000, 200_000, 200_000, 200_000, 200_000,
    1_000_000, 1_000_000, 1_000_000, 1_000_000,
  };

  /** Past this the warm-up stops where it is: on a saturated machine its threads may hardly run at all. */
  static final long DEADLINE_MS = 30_000;

  private static Warmup started;

  private final CompletableFuture<Report> done = new CompletableFuture<>();

  /**
   * What a warm-up did.
   *
   * @param runs      computations finished
   * @param scheduled computations in the schedule
   * @param millis    wall time from start to end
   */
  public record Report(int runs, int scheduled, long millis) {
    /** False when the deadline cut the schedule short. */
    public boolean complete() {
      return runs == scheduled;
    }
  }

  private Warmup() {
  }

  /** Starts this JVM's warm-up on a daemon thread of its own, or returns the one already started. Never blocks. */
  public static synchronized Warmup start() {
    if (started == null) {
      Warmup w = new Warmup();
      Thread t = new Thread(() -> {
        Niceness.apply(Niceness.LOWEST);
        try {
          w.done.complete(run(SCHEDULE, DEADLINE_MS));
        } catch (RuntimeException | Error e) {
          w.done.completeExceptionally(e);
        }
      }, "bigfib-warmup");
      t.setDaemon(true);
      t.setPriority(Thread.MIN_PRIORITY);
      t.start();
      started = w;
    }
    return started;
  }

  /** Completes when the warm-up has ended, with what it did. */
  public CompletableFuture<Report> done() {
    return done;
  }

  /** Runs {@code schedule} on the lowest-priority pool until it is done or {@code deadlineMillis} have passed. */
  static Report run(int[] schedule, long deadlineMillis) {
    return run(schedule, deadlineMillis, () -> { });
  }

  /**
   * Formats a result as its reply does on its way out: the reply's JSON, the event bus's copy of it for a local
   * reply, its encoding for an HTTP body, the text form, and the copy the result cache keeps. A big value makes these loops hot enough for the JIT.
   */
  static int format(int n, String digits) {
    JsonObject reply = new ComputeResult(new FibRequest(n, Algorithm.DOUBLING), digits, 0, "warm-up").toJson();
    // and its copy off the heap, as a heavy worker keeps it in the node's result cache
    CachedResult kept = CachedResult.of(n, digits, 0, "warm-up");
    int cached = kept.jsonLength();
    kept.release();
    return reply.copy().toBuffer().length() + Buffer.buffer(reply.getString("value") + "\n").length() + cached;
  }

  /** {@link #run(int[], long)}, calling {@code probe} on the thread that starts each computation (for tests). */
  static Report run(int[] schedule, long deadlineMillis, Runnable probe) {
    long start = System.nanoTime();
    long end = start + TimeUnit.MILLISECONDS.toNanos(deadlineMillis);
    // the requests' own kind of check (see Cancellation), so that what the JIT compiles here stays valid for them: the
    // deadline cancels it from a timer, not from a test inside the check
    Cancellation late = new Cancellation();
    CompletableFuture.delayedExecutor(deadlineMillis, TimeUnit.MILLISECONDS).execute(late::cancel);
    int runs = 0;
    try {
      for (int n : schedule) {
        if (System.nanoTime() - end >= 0) {
          break;
        }
        String digits = EngineThreads.atLowestPriority(() -> {
          probe.run();
          return BigFibonacci.digits(n, late);
        });
        format(n, digits);
        runs++;
      }
    } catch (CancellationException e) {
      // the deadline passed: what ran so far has done its part
    }
    return new Report(runs, schedule.length, (System.nanoTime() - start) / 1_000_000);
  }
}
