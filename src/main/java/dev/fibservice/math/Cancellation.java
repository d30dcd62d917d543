package dev.fibservice.math;

import java.util.function.BooleanSupplier;

/**
 * The cancellation check to hand the engine: a flag, nothing else. The engine reads its check between steps of its
 * innermost loops, where the JIT inlines the call for the receiver types, and compiles the branches, it has seen.
 * Every caller in the service (requests, jobs, the warm-up) passes this one final class, whose check has no branch,
 * so the code the warm-up gets compiled stays valid for the first request. A second receiver type there (another
 * lambda), or a branch the warm-up always took one way (a deadline test), deoptimized the transforms: the first
 * F(10^6) after the warm-up took 2 to 3 times as long as the next. A deadline is a timer that calls {@link #cancel()}.
 */
public final class Cancellation implements BooleanSupplier {

  private volatile boolean cancelled;
  /** How far the computation is, 0 to 1, as the engine's steps report it; for the events of long jobs. */
  private volatile double progress;

  public void cancel() {
    cancelled = true;
  }

  /** The share of the work done, from 0 to 1 (an estimate from the engine's steps, never going back). */
  public double progress() {
    return progress;
  }

  /**
   * Where the engine's steps are: called between steps, on the thread that computes. A plain volatile write, read only
   * by whoever reports progress; the engine calls it through {@link #report}, which keeps its loops' receiver one type.
   */
  void progress(double done) {
    if (done > progress) {
      progress = Math.min(1.0, done);
    }
  }

  /** Reports {@code done} (0 to 1) when {@code cancelled} is a Cancellation; other checks (tests, benches) ignore it. */
  static void report(java.util.function.BooleanSupplier cancelled, double done) {
    if (cancelled instanceof Cancellation c) {
      c.progress(done);
    }
  }

  /** True once cancelled: the engine then throws CancellationException. */
  @Override
  public boolean getAsBoolean() {
    return cancelled;
  }
}
