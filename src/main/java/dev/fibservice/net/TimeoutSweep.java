package dev.fibservice.net;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The timeouts of the connections of one server instance, kept by one periodic timer on its event loop instead of a
 * timer task per connection (Netty's IdleStateHandler costs each connection a handler, its pipeline context and a
 * scheduled task, about 280 bytes, and a reschedule whenever the task comes due). Each tick looks at every connection
 * once: a connection that had traffic since the last tick starts its time again, one that had none is closed once its
 * time is up. So a timeout is kept to within one tick, which is a quarter of the shortest timeout, at most a second.
 *
 * <p>Used on its event loop only: the connections it keeps are those of the server instance that made it.
 */
public final class TimeoutSweep {

  /**
   * A connection the sweep keeps. It notes its traffic itself, in two fields (the cheapest place): a flag set on
   * traffic, which the next tick turns into the time its clock starts again.
   */
  public interface Timed {
    /** At each tick: whether this connection's time is up; {@code now} is the tick's time in ms. */
    boolean due(long now);

    /** Its time is up: close it. The sweep has let go of it. */
    void expire();
  }

  private final Vertx vertx;
  /** The open connections; an identity set keeps them without a node object per connection. */
  private final Set<Timed> open = Collections.newSetFromMap(new IdentityHashMap<>());
  private final long timer;

  /** Starts ticking every {@code tickMs} on the caller's context (a server verticle's start()). */
  public TimeoutSweep(Vertx vertx, long tickMs) {
    this.vertx = vertx;
    this.timer = vertx.setPeriodic(tickMs, t -> sweep(TimeUnit.NANOSECONDS.toMillis(System.nanoTime())));
  }

  /** The tick for these timeouts: a quarter of the shortest, between 50 ms and a second. */
  public static long tickFor(long... timeoutsMs) {
    long shortest = Long.MAX_VALUE;
    for (long t : timeoutsMs) {
      shortest = Math.min(shortest, t);
    }
    return Math.max(50, Math.min(1000, shortest / 4));
  }

  /** Keeps this connection's time from now on. */
  public void add(Timed connection) {
    open.add(connection);
  }

  /** The connection closed. */
  public void remove(Timed connection) {
    open.remove(connection);
  }

  /** Connections kept. */
  public int size() {
    return open.size();
  }

  /** Stops the timer (the server has stopped). */
  public void close() {
    vertx.cancelTimer(timer);
  }

  /** One tick, at {@code now} (ms, monotonic). */
  void sweep(long now) {
    List<Timed> due = null;
    for (Timed connection : open) {
      if (connection.due(now)) {
        if (due == null) {
          due = new ArrayList<>();
        }
        due.add(connection);
      }
    }
    if (due != null) {
      for (Timed connection : due) {
        open.remove(connection);
        connection.expire();
      }
    }
  }
}
