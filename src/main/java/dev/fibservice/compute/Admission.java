package dev.fibservice.compute;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-node cap on computations queued or running, one counter per lane, shared by every gateway
 * instance of a Vert.x node. A lane that is full refuses at once: nothing queues without bound.
 */
public final class Admission implements Shareable {

  private final int max;
  private final AtomicInteger light = new AtomicInteger();
  private final AtomicInteger heavy = new AtomicInteger();

  private Admission(int max) {
    this.max = max;
  }

  /** The node's instance, created by the first caller. */
  public static Admission of(Vertx vertx, int max) {
    return (Admission) vertx.sharedData().getLocalMap("fib.admission").computeIfAbsent("admission",
      k -> new Admission(max));
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
  public void register(dev.fibservice.ops.Metrics metrics) {
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
