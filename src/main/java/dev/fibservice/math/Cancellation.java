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

  public void cancel() {
    cancelled = true;
  }

  /** True once cancelled: the engine then throws CancellationException. */
  @Override
  public boolean getAsBoolean() {
    return cancelled;
  }
}
