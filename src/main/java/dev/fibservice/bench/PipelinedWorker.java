package dev.fibservice.bench;

import io.vertx.core.net.SocketAddress;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A worker over pipelined connections, each with up to {@code pipeline} requests in flight answered in order: the
 * queue of connections that can take a request, the ones to write once a pump ends, the timeout sweep.
 *
 * <p>Subclasses own the wire (connecting, writing, parsing replies) and call these final methods from their own final
 * classes: the per-request path makes no virtual call beyond {@link Worker}'s own.
 */
abstract class PipelinedWorker<C extends PipelinedWorker.Slot> extends Worker {

  static final int DISCONNECTED = 0;
  static final int CONNECTING = 1;
  static final int READY = 2;
  /** Failed for good: the connection is replaced by a fresh one, not connected again. */
  static final int CLOSED = 3;

  final int depth;
  final long timeoutNanos;
  final C[] conns;
  private final long sweepPeriodMs;
  /** Connections that can take a request now: ready with room, or disconnected (the request triggers a connect). */
  private final ArrayDeque<C> available = new ArrayDeque<>();
  /** Connections given requests during this pump; the subclass's {@link #flush} writes them and clears this. */
  final List<C> dirty = new ArrayList<>();
  private long sweepTimer = -1;

  PipelinedWorker(int index, BenchOptions.Plan plan, SocketAddress server, int cap, C[] conns, long sweepPeriodMs) {
    super(index, plan, server, cap);
    this.depth = plan.pipeline();
    this.timeoutNanos = plan.timeout().toNanos();
    this.conns = conns;
    this.sweepPeriodMs = sweepPeriodMs;
  }

  /** Fails every request in flight on {@code c} with {@code kind}; the connection is replaced or reconnected. */
  abstract void fail(C c, int kind);

  @Override
  void onPhaseStart() {
    available.clear();
    for (C c : conns) {
      c.queued = false;
      offer(c);   // connecting ones enter when their connect completes
    }
    sweepTimer = vertx.setPeriodic(sweepPeriodMs, id -> sweepTimeouts());
  }

  @Override
  void onPhaseEnd() {
    if (sweepTimer != -1) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  @Override
  final boolean hasCapacity() {
    C c = available.peekFirst();
    while (c != null && !c.hasRoom()) {
      available.pollFirst();
      c.queued = false;
      c = available.peekFirst();
    }
    return c != null;
  }

  /**
   * Puts one request on the first available connection ({@link #hasCapacity()} guaranteed it is usable): queued for
   * the next {@link #flush}, or, when that connection is disconnected, returned for the caller to connect (its request
   * is written once connected); null otherwise.
   */
  final C enqueue(long intended, long now) {
    C c = available.peekFirst();
    c.push(intended, now);
    if (c.state == DISCONNECTED) {
      available.pollFirst();
      c.queued = false;
      c.unwritten = 1;
      return c;
    }
    if (c.unwritten++ == 0) {
      dirty.add(c);
    }
    if (c.size == depth) {
      available.pollFirst();
      c.queued = false;
    }
    return null;
  }

  /** Puts {@code c} back in the queue of connections that can take a request, if it has room and is not there. */
  final void offer(C c) {
    if (!c.queued && c.hasRoom()) {
      c.queued = true;
      available.addLast(c);
    }
  }

  /** The oldest request in flight on {@code c} got its answer, an error one when {@code error}. */
  final void answered(C c, long bytes, long now, boolean error, int status) {
    long in = c.intended[c.head];
    long se = c.sent[c.head];
    if (++c.head == depth) {
      c.head = 0;
    }
    c.size--;
    if (error) {
      failedWithLatency(in, se, bytes, now, status);
    } else {
      succeeded(in, se, bytes, now);
    }
  }

  private void sweepTimeouts() {
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    boolean any = false;
    for (C c : conns) {
      if (c.size > 0 && now - c.sent[c.head] > timeoutNanos) {
        fail(c, Stats.TIMEOUT);
        any = true;
      }
    }
    if (any) {
      settle();
    }
  }

  /** One connection's requests in flight (FIFO), its state and its place in the queues. */
  static class Slot {
    final int depth;
    final long[] intended;
    final long[] sent;
    int head;
    int size;
    /** Requests pushed but not yet written. */
    int unwritten;
    int state = DISCONNECTED;
    /** In the queue of available connections. */
    boolean queued;

    Slot(int depth) {
      this.depth = depth;
      this.intended = new long[depth];
      this.sent = new long[depth];
    }

    final boolean hasRoom() {
      return size < depth && state != CONNECTING && state != CLOSED;
    }

    final void push(long intendedAt, long sentAt) {
      int i = head + size;
      if (i >= depth) {
        i -= depth;
      }
      intended[i] = intendedAt;
      sent[i] = sentAt;
      size++;
    }

    /** How many requests to write now: those not yet written, once the connection is ready (0 before). */
    final int takeUnwritten() {
      int k = unwritten;
      if (k > 0 && state == READY) {
        unwritten = 0;
        return k;
      }
      return 0;
    }
  }
}
