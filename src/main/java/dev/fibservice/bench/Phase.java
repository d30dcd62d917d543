package dev.fibservice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One phase of a run (warm-up or measurement), shared by all workers. Closed-loop count-bounded phases draw requests
 * from a shared budget; duration-bounded phases stop issuing after {@link #durationNanos}; fixed-rate phases give each
 * worker its own schedule ({@link #intervalNanos}, {@link #limit}).
 */
final class Phase {

  final String name;
  /** Requests this phase issues in total, or -1 when it is duration-bounded. */
  final long requests;
  /** Remaining requests (closed loop, count-bounded), else {@code null}. */
  private final AtomicLong budget;
  /** Stop issuing after this long (closed loop, duration-bounded), else -1. */
  final long durationNanos;
  /** Fixed-rate mode: per-worker interval between intended send times (ns), else {@code null}. */
  final double[] intervalNanos;
  /** Fixed-rate mode: per-worker number of requests to schedule. */
  final long[] limit;

  private final AtomicInteger running;
  private final AtomicLong endNanos = new AtomicLong(Long.MIN_VALUE);
  final CompletableFuture<Void> done = new CompletableFuture<>();
  volatile long startNanos;

  private Phase(String name, int workers, AtomicLong budget, long durationNanos, double[] intervalNanos, long[] limit) {
    this.name = name;
    this.requests = budget != null ? budget.get() : limit != null ? java.util.Arrays.stream(limit).sum() : -1;
    this.budget = budget;
    this.durationNanos = durationNanos;
    this.intervalNanos = intervalNanos;
    this.limit = limit;
    this.running = new AtomicInteger(workers);
  }

  static Phase closedLoop(String name, int workers, long requests, long durationNanos) {
    return new Phase(name, workers, requests > 0 ? new AtomicLong(requests) : null, requests > 0 ? -1 : durationNanos,
      null, null);
  }

  /**
   * Fixed rate: {@code rate} req/s split evenly over the workers, for {@code requests} requests in total (count-bounded)
   * or for every intended send time inside {@code durationNanos}.
   */
  static Phase fixedRate(String name, int workers, double rate, long requests, long durationNanos) {
    double perWorkerRate = rate / workers;
    double interval = 1e9 / perWorkerRate;
    double[] intervals = new double[workers];
    long[] limits = new long[workers];
    for (int i = 0; i < workers; i++) {
      intervals[i] = interval;
      if (requests > 0) {
        limits[i] = requests / workers + (i < requests % workers ? 1 : 0);
      } else {
        // intended send times t0 + k * interval with k * interval < duration
        limits[i] = Math.max(1, (long) Math.ceil(durationNanos / interval));
      }
    }
    return new Phase(name, workers, null, -1, intervals, limits);
  }

  boolean fixedRate() {
    return intervalNanos != null;
  }

  /** Claims one request from the shared budget; always true for duration-bounded phases. */
  boolean claim() {
    AtomicLong b = budget;
    return b == null || (b.get() > 0 && b.getAndDecrement() > 0);
  }

  void workerDone(long nowNanos) {
    endNanos.accumulateAndGet(nowNanos, Math::max);
    if (running.decrementAndGet() == 0) {
      done.complete(null);
    }
  }

  long endNanos() {
    return endNanos.get();
  }
}
