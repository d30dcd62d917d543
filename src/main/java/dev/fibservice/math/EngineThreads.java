package dev.fibservice.math;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The engine's own threads as the service sees them: a set-up it hands in, run by each pool thread as it starts
 * (the service lowers their CPU priority there), and a way to run work nobody waits for on the lowest-priority pool.
 * The engine itself knows nothing of priorities or of the service.
 */
public final class EngineThreads {

  /** Which pool a starting thread belongs to. */
  public enum Pool {
    /** The engine's pool for requests: large computations split over the cores. */
    HEAVY,
    /** The pool of {@link #atLowestPriority}: work nobody waits for, such as a warm-up. */
    LOWEST
  }

  private static volatile Consumer<Pool> setup = pool -> { };

  private EngineThreads() {
  }

  /** Runs {@code setup} on every engine pool thread that starts from now on, on that thread. */
  public static void onStart(Consumer<Pool> setup) {
    EngineThreads.setup = setup;
  }

  /**
   * Starts the threads of the requests' pool now (each runs the set-up of {@link #onStart}), rather than in the first
   * large request; they stay. Blocking: call it from a worker thread.
   */
  public static void prestart() throws InterruptedException {
    Parallel.prestart();
  }

  /** Runs {@code body} on the lowest-priority pool, never on the threads requests use, and returns its result. */
  public static <T> T atLowestPriority(Supplier<T> body) {
    return Parallel.invokeAtLowestPriority(body);
  }

  /** Whether the engine splits work over several threads on this machine (more than one core). */
  public static boolean splits() {
    return Parallel.enabled();
  }

  static void started(Pool pool) {
    setup.accept(pool);
  }
}
