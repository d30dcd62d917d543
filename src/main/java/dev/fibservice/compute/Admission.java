package dev.fibservice.compute;

import dev.fibservice.ops.Metrics;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-node cap on computations queued or running, one counter per lane, shared by every gateway
 * instance of a node. A lane that is full refuses at once: nothing queues without bound.
 */
public final class Admission {

  private final int max;
  private final AtomicInteger light = new AtomicInteger();
  private final AtomicInteger heavy = new AtomicInteger();

  /** @param max computations queued or running per lane (fib.maxInFlight) */
  public Admission(int max) {
    this.max = max;
  }

  boolean tryAcquire(boolean lightLane) {
    AtomicInteger counter = lightLane ? light : heavy;
    while (true) {
      int current = counter.get();
      if (current >= max) {
        return false;
      }
      if (counter.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  void release(boolean lightLane) {
    (lightLane ? light : heavy).decrementAndGet();
  }

  /** In-flight gauges, one per lane. */
  public void register(Metrics metrics) {
    metrics.gauge("fib_in_flight", "Computations queued or running on this node", "lane", "light", light::get);
    metrics.gauge("fib_in_flight", "Computations queued or running on this node", "lane", "heavy", heavy::get);
  }

  public int max() {
    return max;
  }

  public int inFlight() {
    return light.get() + heavy.get();
  }

  /** Computations queued or running in one lane (for /stats). */
  public int inFlight(boolean lightLane) {
    return (lightLane ? light : heavy).get();
  }
}
