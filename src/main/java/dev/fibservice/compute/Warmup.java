package dev.fibservice.compute;

import dev.fibservice.math.BigFibonacci;
import dev.fibservice.math.EngineThreads;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * A bounded background warm-up of the big-number engine: a fixed schedule of computations on the lowest-priority
 * threads, so that the first large request of a fresh JVM finds the engine's code compiled and its tables built. The
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

  /** {@link #run(int[], long)}, calling {@code probe} on the thread that starts each computation (for tests). */
  static Report run(int[] schedule, long deadlineMillis, Runnable probe) {
    long start = System.nanoTime();
    long end = start + deadlineMillis * 1_000_000L;
    BooleanSupplier late = () -> System.nanoTime() - end > 0;
    int runs = 0;
    try {
      for (int n : schedule) {
        EngineThreads.atLowestPriority(() -> {
          probe.run();
          return BigFibonacci.digits(n, late);
        });
        runs++;
      }
    } catch (CancellationException e) {
      // the deadline passed: what ran so far has done its part
    }
    return new Report(runs, schedule.length, (System.nanoTime() - start) / 1_000_000);
  }
}
