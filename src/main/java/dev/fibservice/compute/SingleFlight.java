package dev.fibservice.compute;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Identical work in flight at once, done once: the first caller of a key starts it, callers of the same key that come
 * while it runs join it, and every caller still there gets its outcome. A caller may leave before the end (its client
 * went away, it was cancelled): it is answered at once with the failure it leaves with and the work goes on for the
 * others; when the last caller leaves, the work is cancelled and forgotten, so the next caller of that key starts
 * afresh. Shared by every event loop of a node: each caller's outcome is delivered on the Vert.x context it joined
 * from.
 */
final class SingleFlight<K, V> {

  /** Work started for a key: its outcome, and how to stop it. */
  interface Work<V> {
    Future<V> outcome();

    /** Stops the work: nobody waits for it any more. */
    void cancel();
  }

  /** One caller of a key: its outcome, or the failure it left with. */
  final class Caller {
    private final Context context;
    private final Promise<V> promise = Promise.promise();
    private final Flight flight;
    /** True for a caller that found the work in flight (it started nothing). */
    private final boolean joined;

    private Caller(Context context, Flight flight, boolean joined) {
      this.context = context;
      this.flight = flight;
      this.joined = joined;
    }

    Future<V> outcome() {
      return promise.future();
    }

    boolean joined() {
      return joined;
    }

    private void deliver(AsyncResult<V> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
  }

  private final class Flight {
    final K key;
    final List<Caller> callers = new ArrayList<>(2);
    Work<V> work;
    /** Every caller left before the work was handed over: cancel it as soon as it is. */
    boolean abandoned;
    boolean over;

    Flight(K key) {
      this.key = key;
    }
  }

  /** The flights in progress, by key; guarded by this. */
  private final Map<K, Flight> flights = new HashMap<>();
  private final Runnable onJoin;

  /** @param onJoin counts a caller that joined work already in flight (a metric) */
  SingleFlight(Runnable onJoin) {
    this.onJoin = onJoin;
  }

  /**
   * The caller's share of the work for {@code key}: the work in flight, or new work from {@code start} (called outside
   * any lock, on the caller's thread; it may fail at once, a refusal say, and every caller of it then gets that).
   */
  Caller join(K key, Function<K, Work<V>> start) {
    Flight flight;
    Caller caller;
    synchronized (this) {
      flight = flights.get(key);
      boolean joined = flight != null;
      if (!joined) {
        flight = new Flight(key);
        flights.put(key, flight);
      }
      caller = new Caller(Vertx.currentContext(), flight, joined);
      flight.callers.add(caller);
    }
    if (caller.joined) {
      onJoin.run();
      return caller;
    }
    Work<V> work;
    try {
      work = start.apply(key);
    } catch (RuntimeException e) {
      work = failed(e);
    }
    boolean abandoned;
    synchronized (this) {
      flight.work = work;
      abandoned = flight.abandoned;
    }
    if (abandoned) {
      work.cancel();
    }
    Flight started = flight;
    work.outcome().onComplete(ar -> finish(started, ar));
    return caller;
  }

  /**
   * The caller leaves, answered at once with {@code failure}; the work goes on for the others, and is cancelled when
   * nobody is left. False when its outcome was already decided (it is delivered, or on its way).
   */
  boolean leave(Caller caller, Throwable failure) {
    Flight flight = caller.flight;
    Work<V> cancel = null;
    synchronized (this) {
      if (flight.over || !flight.callers.remove(caller)) {
        return false;
      }
      if (flight.callers.isEmpty()) {
        flights.remove(flight.key, flight);
        flight.over = true;
        if (flight.work == null) {
          flight.abandoned = true;
        } else {
          cancel = flight.work;
        }
      }
    }
    caller.deliver(Future.failedFuture(failure));
    if (cancel != null) {
      cancel.cancel();
    }
    return true;
  }

  /** Keys with work in flight now (for tests). */
  synchronized int inFlight() {
    return flights.size();
  }

  /** Callers waiting for the work of {@code key} now (for tests). */
  synchronized int callers(K key) {
    Flight flight = flights.get(key);
    return flight == null ? 0 : flight.callers.size();
  }

  /** The work ended: every caller still there gets its outcome; the next caller of the key starts new work. */
  private void finish(Flight flight, AsyncResult<V> outcome) {
    List<Caller> callers;
    synchronized (this) {
      flights.remove(flight.key, flight);
      flight.over = true;
      callers = new ArrayList<>(flight.callers);
      flight.callers.clear();
    }
    for (Caller caller : callers) {
      caller.deliver(outcome);
    }
  }

  private static <V> Work<V> failed(Throwable failure) {
    return new Work<>() {
      @Override
      public Future<V> outcome() {
        return Future.failedFuture(failure);
      }

      @Override
      public void cancel() {
      }
    };
  }
}
