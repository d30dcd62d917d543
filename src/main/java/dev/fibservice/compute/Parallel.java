package dev.fibservice.compute;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Fork/join plumbing for the big-number engine: one small dedicated pool plus cooperative cancellation checks. */
final class Parallel {
  /**
   * One worker per core, capped at 4 (the engine only ever splits work into 2^SPLITS equal parts); a dedicated pool
   * keeps long computations from starving ForkJoinPool.commonPool() users. System property
   * {@code dev.fibservice.compute.workers} overrides it (1 = everything on the caller's thread).
   */
  private static final int WORKERS = Math.max(1, Math.min(4, Integer.getInteger("dev.fibservice.compute.workers",
      Runtime.getRuntime().availableProcessors())));

  /** How many times a large transform or conversion is halved across threads (0 on a single core). */
  static final int SPLITS = 31 - Integer.numberOfLeadingZeros(WORKERS);

  private static final ForkJoinPool POOL = new ForkJoinPool(WORKERS, pool -> {
    // only heavy work comes here (large n): its threads get the heavy lane's lower CPU priority
    ForkJoinWorkerThread t = new ForkJoinWorkerThread(pool) {
      @Override
      protected void onStart() {
        super.onStart();
        Niceness.apply(Niceness.heavy());
      }
    };
    t.setName("bigfib-worker-" + t.getPoolIndex());
    t.setDaemon(true);
    return t;
  }, null, false);

  private Parallel() {
  }

  /** Whether splitting work is worth anything on this machine. */
  static boolean enabled() {
    return SPLITS > 0;
  }

  /** Runs {@code body} inside the engine's pool (directly if already there) and returns its result. */
  static <T> T invoke(Supplier<T> body) {
    if (!enabled() || ForkJoinTask.getPool() == POOL) {
      return body.get();
    }
    return POOL.invoke(new RecursiveTask<T>() {
      @Override
      protected T compute() {
        return body.get();
      }
    });
  }

  /**
   * Runs independent tasks, concurrently when called from inside the pool; returns when all have finished, so no work
   * outlives the call even when one throws (e.g. on cancellation). The first failure is rethrown.
   */
  static void all(Runnable[] tasks) {
    if (ForkJoinTask.getPool() != POOL) {
      for (Runnable t : tasks) {
        t.run();
      }
      return;
    }
    ForkJoinTask<?>[] forked = new ForkJoinTask<?>[tasks.length];
    for (int i = 1; i < tasks.length; i++) {
      forked[i] = ForkJoinTask.adapt(tasks[i]).fork();
    }
    Throwable failure = null;
    try {
      tasks[0].run();
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    // Newest first, so this thread takes back the tasks nobody stole and runs them itself.
    for (int i = tasks.length - 1; i >= 1; i--) {
      ForkJoinTask<?> t = forked[i];
      if (failure != null && t.tryUnfork()) {
        continue;
      }
      try {
        t.join();
      } catch (RuntimeException | Error e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure != null) {
      throw (Error) failure;
    }
  }

  /**
   * Runs two independent tasks, concurrently when called from inside the pool; returns when both have finished, so no
   * work outlives the call even when one side throws (e.g. on cancellation).
   */
  static void both(Runnable a, Runnable b) {
    if (ForkJoinTask.getPool() != POOL) {
      a.run();
      b.run();
      return;
    }
    ForkJoinTask<?> other = ForkJoinTask.adapt(b).fork();
    try {
      a.run();
    } catch (RuntimeException | Error e) {
      if (!other.tryUnfork()) {
        try {
          other.join();
        } catch (RuntimeException | Error ignored) {
          // The first failure is the one reported; the sibling normally fails with the same cancellation.
        }
      }
      throw e;
    }
    other.join();
  }

  /** Throws {@link CancellationException} once the caller's flag is set; cheap enough to call every ~0.1 ms of work. */
  static void check(BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException("big Fibonacci computation cancelled");
    }
  }
}
