package dev.fibservice.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.concurrent.TimeUnit;

/**
 * How late an event loop runs what is due on it: a timer every {@value #PERIOD_MS} ms on its loop, and how much
 * later than due it fired, recorded in {@code fib_event_loop_lag_seconds} (its {@code _max} is the worst lately). One
 * instance per event loop (Vert.x hands instances the loops in turn). A loop kept busy by slow handlers, a long
 * pause of the JVM, or a machine out of CPU shows here before it shows in latency.
 */
public final class EventLoopLag extends VerticleBase {

  static final long PERIOD_MS = 100;

  private final Timer lag;
  private long due;

  public EventLoopLag(MeterRegistry registry) {
    this.lag = Timer.builder("fib_event_loop_lag").description("How much later than due a timer on an event loop"
      + " fired (one every " + PERIOD_MS + " ms on each loop)").register(registry);
  }

  @Override
  public Future<?> start() {
    due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
    vertx.setPeriodic(PERIOD_MS, id -> {
      long now = System.nanoTime();
      lag.record(Math.max(0, now - due), TimeUnit.NANOSECONDS);
      // from now: a loop that was late once is not counted late again for the same delay
      due = now + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
    });
    return Future.succeededFuture();
  }
}
