package dev.fibservice.bench;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.SocketAddress;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One load-generating worker, pinned to one event loop (deployed as one verticle instance). All state is confined to
 * that event loop; other threads only read the published progress counters.
 *
 * <p>The base class does the scheduling (closed loop or fixed rate), the bookkeeping and the accounting; subclasses
 * put requests on the wire ({@link #issue}) and report outcomes through {@link #succeeded}, {@link #failedWithLatency},
 * {@link #failed}, followed by one {@link #settle()}.
 */
abstract class Worker extends VerticleBase {

  final int index;
  final BenchOptions.Plan plan;
  final SocketAddress server;
  /** Hard cap on this worker's requests in flight. */
  final int cap;
  final Stats stats = new Stats();

  /** Published for the progress bar: requests finished (any outcome) and failed in the current phase. */
  final AtomicLong progressDone = new AtomicLong();
  final AtomicLong progressFailed = new AtomicLong();
  private long doneLocal;
  private long failedLocal;

  private Phase phase;
  int inFlight;
  private boolean issuing;
  /** Set when the phase was cut off (max duration); every late callback is ignored. */
  boolean stopped = true;
  private boolean finished = true;
  private boolean pumping;
  private long stopTimer = -1;

  // fixed-rate schedule: request k is intended at t0 + k * interval
  private boolean paced;
  private long t0;
  private double interval;
  private long dueIdx;
  private long nextIdx;
  private long limitIdx;
  private boolean tickScheduled;
  /** Scheduled on this worker's own Netty event loop: a Vert.x timer per tick costs a timer object and a promise. */
  private final Runnable onTick = () -> {
    tickScheduled = false;
    settle();
  };

  Worker(int index, BenchOptions.Plan plan, SocketAddress server, int cap) {
    this.index = index;
    this.plan = plan;
    this.server = server;
    this.cap = cap;
  }

  Context context() {
    return context;
  }

  // ---------------------------------------------------------------------------------------------- subclass contract

  /** Whether a request can be put on the wire right now (a free slot / a connection with room). */
  abstract boolean hasCapacity();

  /** Puts one request on the wire; {@code intended} is its intended send time, {@code now} its actual one. */
  abstract void issue(long intended, long now);

  /** Called once the pump loop ended, to flush whatever {@link #issue} buffered. */
  void flush() {
  }

  void onPhaseStart() {
  }

  void onPhaseEnd() {
  }

  /** Cut off: drop every request in flight (they are counted as aborted) and close what must be closed. */
  void onAbort() {
  }

  // ---------------------------------------------------------------------------------------------- phase control

  /** Runs on this worker's context. */
  final void startPhase(Phase p) {
    phase = p;
    stats.reset();
    inFlight = 0;
    doneLocal = failedLocal = 0;
    progressDone.set(0);
    progressFailed.set(0);
    stopped = false;
    finished = false;
    issuing = true;
    tickScheduled = false;
    long now = System.nanoTime();
    paced = p.fixedRate();
    if (paced) {
      interval = p.intervalNanos[index];
      // stagger the workers' schedules so that together they send at evenly spaced times, not in bursts
      t0 = now + (long) (interval * index / p.intervalNanos.length);
      limitIdx = p.limit[index];
      dueIdx = nextIdx = 0;
    } else if (p.durationNanos > 0) {
      long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(p.durationNanos));
      stopTimer = vertx.setTimer(ms, id -> {
        stopTimer = -1;
        issuing = false;
        settle();
      });
    }
    onPhaseStart();
    settle();
  }

  /** Runs on this worker's context: the hard deadline was reached. */
  final void abort() {
    if (finished) {
      return;
    }
    stopped = true;
    issuing = false;
    stats.errors[Stats.ABORTED] += inFlight;
    inFlight = 0;
    onAbort();
    finish();
  }

  // ---------------------------------------------------------------------------------------------- scheduling

  /** Issues what can be issued, then checks whether this worker is done with the phase. */
  final void settle() {
    if (stopped) {
      return;
    }
    if (!pumping) {
      pumping = true;
      try {
        pump();
      } finally {
        pumping = false;
      }
      flush();
    }
    if (!finished && inFlight == 0 && exhausted()) {
      finish();
    }
  }

  private boolean exhausted() {
    return paced ? nextIdx >= limitIdx : !issuing;
  }

  private void pump() {
    if (paced) {
      long now = System.nanoTime();
      if (now >= t0) {
        // every request whose intended send time has come is due (it is sent as soon as a slot is free)
        long due = Math.min(limitIdx, (long) ((now - t0) / interval) + 1);
        if (due > dueIdx) {
          dueIdx = due;
        }
      }
      while (nextIdx < dueIdx && inFlight < cap && hasCapacity() && !stopped) {
        long intended = intended(nextIdx++);
        stats.requests++;
        inFlight++;
        issue(intended, now);
      }
      if (nextIdx == dueIdx && dueIdx < limitIdx && !tickScheduled && !stopped) {
        long delay = intended(dueIdx) - System.nanoTime();
        tickScheduled = true;
        ((ContextInternal) context).nettyEventLoop().schedule(onTick, Math.max(delay, 1_000L), TimeUnit.NANOSECONDS);
      }
    } else {
      while (issuing && inFlight < cap && hasCapacity() && !stopped) {
        if (!phase.claim()) {
          issuing = false;
          break;
        }
        long now = System.nanoTime();
        stats.requests++;
        inFlight++;
        issue(now, now);
      }
    }
  }

  private long intended(long k) {
    return t0 + (long) (k * interval);
  }

  private void finish() {
    finished = true;
    if (stopTimer != -1) {
      vertx.cancelTimer(stopTimer);
      stopTimer = -1;
    }
    onPhaseEnd();
    publish();
    phase.workerDone(System.nanoTime());
  }

  // ---------------------------------------------------------------------------------------------- outcomes

  /** A successful response/reply; call {@link #settle()} afterwards. */
  final void succeeded(long intended, long sent, long bytes, long now) {
    stats.recordLatency(intended, sent, now);
    stats.completed++;
    stats.bytes += bytes;
    inFlight--;
    doneLocal++;
    publish();
  }

  /** A response that arrived but is an error ({@code status >= 400} or an {@code [Error]} reply). */
  final void failedWithLatency(long intended, long sent, long bytes, long now, int status) {
    stats.recordLatency(intended, sent, now);
    stats.bytes += bytes;
    if (status > 0) {
      stats.statusError(status);
    } else {
      stats.errors[Stats.REPLY]++;
    }
    inFlight--;
    doneLocal++;
    failedLocal++;
    publish();
  }

  /** A request that got no (complete) response. */
  final void failed(int kind) {
    stats.errors[kind]++;
    inFlight--;
    doneLocal++;
    failedLocal++;
    publish();
  }

  private void publish() {
    progressDone.lazySet(doneLocal);
    progressFailed.lazySet(failedLocal);
  }
}
