package dev.fibservice.net;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * One client connection of a record-based TCP protocol (the line protocol, the event-bus bridge), with the connection
 * handling both share:
 * <ul>
 *   <li>records are taken from the bytes received only while the connection may take more work ({@link #busy()})
 *       and its client reads its replies: every reply goes through {@link #write}, and while the socket's write queue
 *       is full nothing more is read or taken, so a client that does not read stalls instead of filling memory;</li>
 *   <li>a half-close (the client's FIN) ends the requests, not the connection: everything received before it is
 *       taken and answered, then the connection closes;</li>
 *   <li>a real close (RST, a failed write, the idle timeout) cancels the computations still pending
 *       ({@link PendingWork});</li>
 *   <li>the idle timeout is kept on the server's {@link TimeoutSweep}: a connection whose bytes neither come nor go
 *       for that long is closed; and writes go straight to the channel ({@link Wire#writeDirect}).</li>
 *   <li>when the server shuts down (the node leaves), nothing more is taken: what was taken is answered, then the
 *       connection closes (an idle one at once); a record not taken yet gets no reply, the client sends it again
 *       elsewhere.</li>
 * </ul>
 * Subclasses parse ({@link #take}), say when they are busy and when everything is answered, and call
 * {@link #changed()} when a reply was written or work ended. Used on the connection's event loop only.
 */
public abstract class Session implements TimeoutSweep.Timed {

  private static final Buffer EMPTY = Buffer.buffer(0);

  protected final NetSocket socket;
  /** The computations this connection waits for, under ids the server made. */
  protected final PendingWork work;
  /** Bytes received but not yet taken: a partial record, or records held back while busy. */
  private Buffer input = EMPTY;
  /** Whether {@link #input} is a buffer of our own (one handed to us by Vert.x is never appended to). */
  private boolean owned;
  private boolean paused;
  private boolean taking;
  private boolean inputEnded;
  private boolean finishing;
  private boolean ended;
  private boolean closed;
  private final TimeoutSweep sweep;
  private final int idleTimeoutMs;
  /** Bytes came or went since the sweep's last tick. */
  private boolean touched = true;
  /** The tick at which the idle time last started. */
  private long since;

  /** @param sweep the server instance's sweep, which closes the connection after {@code idleTimeoutMs} without bytes */
  protected Session(Vertx vertx, NetSocket socket, TimeoutSweep sweep, int idleTimeoutMs) {
    this.socket = socket;
    this.work = new PendingWork(vertx);
    this.sweep = sweep;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** Call from the server's connect handler (before the first read completes, so that a FIN loses nothing). */
  public final void start() {
    Wire.allowHalfClose(socket);
    Wire.writeDirect(socket);
    sweep.add(this);
    socket.handler(this::received);
    socket.endHandler(v -> {
      // also runs just before the close handler on a real close, where there is nothing left to answer
      if (Wire.halfClosed(socket)) {
        inputEnded = true;
        takeRecords();
      }
    });
    socket.closeHandler(v -> {
      closed = true;
      sweep.remove(this);
      work.cancelAll();
      onClosed();
    });
    socket.drainHandler(v -> flow());
    socket.exceptionHandler(e -> socket.close());
    // the server stops (its node leaves): what was taken is answered, then the connection closes; without this an
    // idle connection held the stop for the whole grace period and was then cut, with whatever it had in flight
    socket.shutdownHandler(v -> finish());
  }

  /**
   * Takes the record that starts at {@code start} of {@code input} (whose bytes end at {@code end}): returns where the
   * next one starts, or -1 while this one is incomplete.
   */
  protected abstract int take(Buffer input, int start, int end);

  /** The client half-closed, leaving {@code rest}: bytes of an incomplete record (empty when none). */
  protected abstract void leftover(Buffer rest);

  /** Whether this connection has as much work in flight as it may take on. */
  protected abstract boolean busy();

  /** Whether every reply this connection owes has been written. */
  protected abstract boolean answered();

  /** The connection closed (pending work is already cancelled). */
  protected void onClosed() {
  }

  protected final boolean isClosed() {
    return closed;
  }

  @Override
  public final boolean due(long now) {
    if (touched) {
      touched = false;
      since = now;
      return false;
    }
    return now - since >= idleTimeoutMs;
  }

  /** Idle for the whole idle timeout: closed, as a reset would close it. */
  @Override
  public final void expire() {
    socket.close();
  }

  /** Writes a reply. While the client does not read its replies, nothing more is read or taken. */
  protected final void write(Buffer data) {
    if (!closed && !ended) {
      touched = true;
      socket.write(data);
      pauseIfFull();
    }
  }

  protected final void write(String text) {
    if (!closed && !ended) {
      touched = true;
      socket.write(text);
      pauseIfFull();
    }
  }

  private void pauseIfFull() {
    if (!paused && socket.writeQueueFull()) {
      pause();
    }
  }

  /** Takes no more input; the connection closes once every reply is written. */
  protected final void finish() {
    finishing = true;
    if (!paused) {
      pause();
    }
    endIfAnswered();
  }

  /** Writes these last words and closes now: what is still pending is cancelled. */
  protected final void abort(Buffer lastWords) {
    if (!closed && !ended) {
      finishing = true;
      ended = true;
      socket.end(lastWords);
    }
  }

  /** A reply was written or work ended: take more input, or close when done. */
  protected final void changed() {
    if (finishing) {
      endIfAnswered();
    } else {
      takeRecords();
    }
  }

  private void received(Buffer data) {
    touched = true;
    if (input.length() == 0) {
      input = data;
      owned = false;
    } else if (owned) {
      input.appendBuffer(data);
    } else {
      input = Buffer.buffer(2 * (input.length() + data.length())).appendBuffer(input).appendBuffer(data);
      owned = true;
    }
    takeRecords();
  }

  private void takeRecords() {
    if (taking || closed) {
      return;
    }
    taking = true;
    try {
      int start = 0;
      int end = input.length();
      boolean incomplete = false;
      while (!finishing && !busy() && !socket.writeQueueFull()) {
        int next = take(input, start, end);
        if (next < 0) {
          incomplete = true;
          break;
        }
        start = next;
      }
      if (start > 0) {
        input = start >= end ? EMPTY : input.getBuffer(start, end);
        owned = start < end;
      }
      if (inputEnded && incomplete && !finishing) {
        Buffer rest = input;
        input = EMPTY;
        owned = false;
        leftover(rest);
        finish();
      }
    } finally {
      taking = false;
    }
    if (finishing) {
      endIfAnswered();
    } else {
      flow();
    }
  }

  /** Reads while the connection may take more, and takes what it holds once it may again. */
  private void flow() {
    if (closed || finishing) {
      return;
    }
    boolean mustPause = busy() || socket.writeQueueFull();
    if (mustPause && !paused) {
      pause();
    } else if (!mustPause && paused) {
      paused = false;
      socket.resume();
      takeRecords();
    }
  }

  private void pause() {
    paused = true;
    socket.pause();
  }

  private void endIfAnswered() {
    if (!ended && !closed && answered()) {
      ended = true;
      socket.end();
    }
  }
}
