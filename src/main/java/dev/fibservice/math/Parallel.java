package dev.fibservice.math;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Fork/join plumbing for the big-number engine: one small dedicated pool, a lowest-priority one for work nobody waits
 * for (the warm-up), and cooperative cancellation checks.
 */
final class Parallel {
  /**
   * One worker per core, capped at 4; a dedicated pool keeps long computations from starving ForkJoinPool.commonPool()
   * users. System property {@code dev.fibservice.compute.workers} overrides it (1 = everything on the caller's thread).
   */
  private static final int WORKERS = Math.max(1, Math.min(4, Integer.getInteger("dev.fibservice.compute.workers",
      Runtime.getRuntime().availableProcessors())));

  /**
   * How long an idle thread of the requests' pool stays: for good, in effect. A thread that ended and came back runs the
   * service's set-up again as it starts (a renice process, tens to hundreds of ms on a busy machine), and a request
   * after a quiet minute paid that; two idle threads cost nothing.
   */
  static final long KEEP_ALIVE_DAYS = 365;

  // only heavy work comes here (large n): the service gives its threads the heavy lane's lower CPU priority
  private static final ForkJoinPool POOL = pool("bigfib-worker-", EngineThreads.Pool.HEAVY,
      TimeUnit.DAYS.toSeconds(KEEP_ALIVE_DAYS));

  /** Created on first use; its threads end a few seconds after their last task, so a warm-up leaves none behind. */
  private static volatile ForkJoinPool low;

  private Parallel() {
  }

  /** A pool of WORKERS threads, each ending once idle for {@code keepAliveSeconds} (and coming back on demand). */
  private static ForkJoinPool pool(String name, EngineThreads.Pool kind, long keepAliveSeconds) {
    ForkJoinPool.ForkJoinWorkerThreadFactory factory = pool -> {
      ForkJoinWorkerThread t = new ForkJoinWorkerThread(pool) {
        @Override
        protected void onStart() {
          super.onStart();
          setName(name + getPoolIndex()); // the index is assigned once the thread has registered, not in the factory
          EngineThreads.started(kind);
        }
      };
      t.setDaemon(true);
      return t;
    };
    // the defaults of ForkJoinPool's short constructor (core 0, at most 0x7fff threads, 1 runnable), our keep-alive
    return new ForkJoinPool(WORKERS, factory, null, false, 0, 0x7fff, 1, null, keepAliveSeconds, TimeUnit.SECONDS);
  }

  /**
   * Starts every thread of the requests' pool now, each running the set-up handed to {@link EngineThreads#onStart} as
   * it starts, so that the first large request does not. Blocks until they have started (at most 10 s).
   */
  static void prestart() throws InterruptedException {
    if (!enabled()) {
      return;
    }
    // each task waits until all are running: WORKERS tasks at once need WORKERS threads
    CountDownLatch running = new CountDownLatch(WORKERS);
    ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
      tasks[i] = POOL.submit(() -> {
        running.countDown();
        try {
          running.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    running.await(10, TimeUnit.SECONDS);
    for (ForkJoinTask<?> t : tasks) {
      t.join();
    }
  }

  /** Whether splitting work is worth anything on this machine. */
  static boolean enabled() {
    return WORKERS > 1;
  }

  static int workers() {
    return WORKERS;
  }

  /** Runs {@code body} inside the engine's pool (directly if already in one of its pools) and returns its result. */
  static <T> T invoke(Supplier<T> body) {
    return invoke(POOL, body);
  }

  /**
   * Runs {@code body} on the lowest-priority pool (threads {@code bigfib-warmup-*}), so it never takes the heavy pool's
   * threads from a request.
   */
  static <T> T invokeAtLowestPriority(Supplier<T> body) {
    ForkJoinPool pool = low;
    if (pool == null) {
      synchronized (Parallel.class) {
        if (low == null) {
          low = pool("bigfib-warmup-", EngineThreads.Pool.LOWEST, 2);
        }
        pool = low;
      }
    }
    return invoke(pool, body);
  }

  private static <T> T invoke(ForkJoinPool pool, Supplier<T> body) {
    if (!enabled() || inPool()) {
      return body.get();
    }
    return pool.invoke(new RecursiveTask<T>() {
      @Override
      protected T compute() {
        return body.get();
      }
    });
  }

  /** Whether the current thread is one of the engine's pool threads (so forks stay in its pool). */
  private static boolean inPool() {
    ForkJoinPool pool = ForkJoinTask.getPool();
    return pool != null && (pool == POOL || pool == low);
  }

  /**
   * Runs independent tasks, concurrently when called from inside the pool; returns when all have finished, so no work
   * outlives the call even when one throws (e.g. on cancellation). The first failure is rethrown.
   */
  static void all(Runnable[] tasks) {
    if (!inPool()) {
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
    if (!inPool()) {
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
