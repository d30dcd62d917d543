package dev.fibservice.tcp;

import dev.fibservice.api.RequestIds;
import dev.fibservice.api.ServiceError;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import dev.fibservice.net.Session;
import dev.fibservice.net.TimeoutSweep;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;

/**
 * One TCP connection: splits lines, answers each from a table when n is small and the algorithm the default,
 * else computes it through the event bus, and writes the replies in
 * the order the lines came, however the computations finish. Reading pauses while too many lines are
 * in flight or the client is not reading its replies, so a connection never queues without bound
 * (see {@link Session} for that, for half-closes and for cancellation on close).
 */
final class LineSession extends Session {

  /** The protocol's limits, read once from the settings. */
  record Config(int maxLineBytes, int maxPipelined, FibRequest.Limits limits) {
    static Config from(Settings settings) {
      return new Config(settings.getInt(Settings.TCP_MAX_LINE), settings.getInt(Settings.TCP_MAX_PIPELINED),
        FibRequest.Limits.from(settings));
    }
  }

  /** A reply slot: filled when its computation ends, written once every earlier slot is written. */
  private static final class Pending {
    String reply;
    /** A reply ready in bytes (a table answer), instead of {@link #reply}. */
    Buffer bytes;
    /** The slot of the next line: the slots are a queue of their own, so an idle connection holds no queue. */
    Pending next;

    boolean ready() {
      return reply != null || bytes != null;
    }
  }

  /**
   * The replies to n = 0 to 92 with the default algorithm, built once: a table lookup costs far less than the
   * event-bus hop to a worker and back, so these lines are answered here, on the event loop.
   */
  private static final Buffer[] SMALL = new Buffer[Fibonacci.MAX_LONG_N + 1];

  static {
    for (int n = 0; n <= Fibonacci.MAX_LONG_N; n++) {
      byte[] reply = (Fibonacci.small(n) + "\n").getBytes(StandardCharsets.US_ASCII);
      SMALL[n] = BufferInternal.buffer(Unpooled.unreleasableBuffer(Unpooled.directBuffer(reply.length)
        .writeBytes(reply).asReadOnly()));
    }
  }

  private static final byte LF = '\n';

  private final Config config;
  private final Metrics metrics;
  private final Runnable onClose;
  private final ComputeClient fib;
  /** The replies owed, in the order of their lines: first and last slot, and how many. */
  private Pending first;
  private Pending last;
  private int owed;

  LineSession(Vertx vertx, NetSocket socket, TimeoutSweep sweep, int idleMs, Config config, ComputeClient fib,
              Metrics metrics, Runnable onClose) {
    super(vertx, socket, sweep, idleMs);
    this.config = config;
    this.fib = fib;
    this.metrics = metrics;
    this.onClose = onClose;
  }

  @Override
  protected int take(Buffer input, int start, int end) {
    int lf = indexOf(input, LF, start, end);
    if (lf < 0) {
      // a line that never ends is refused as soon as it is too long (one more byte for a '\r')
      if (end - start > config.maxLineBytes() + 1) {
        tooLong();
        return end;
      }
      return -1;
    }
    int lineEnd = lf > start && input.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    if (lineEnd - start > config.maxLineBytes()) {
      tooLong();
    } else {
      handleLine(input.getString(start, lineEnd, StandardCharsets.UTF_8.name()));
    }
    return lf + 1;
  }

  /** The client half-closed after a last line without its newline: that is a line too. */
  @Override
  protected void leftover(Buffer rest) {
    int end = rest.length();
    if (end > 0 && rest.getByte(end - 1) == '\r') {
      end--;
    }
    if (end > config.maxLineBytes()) {
      tooLong();
    } else if (end > 0) {
      handleLine(rest.getString(0, end, StandardCharsets.UTF_8.name()));
    }
  }

  @Override
  protected boolean busy() {
    return owed >= config.maxPipelined();
  }

  @Override
  protected boolean answered() {
    return owed == 0;
  }

  @Override
  protected void onClosed() {
    first = null;
    last = null;
    owed = 0;
    onClose.run();
  }

  /** Whether the text has a character of regex {@code \s}: space, tab, LF, VT, FF or CR. */
  private static boolean spaced(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == ' ' || (c >= '\t' && c <= '\r')) {
        return true;
      }
    }
    return false;
  }

  private static int indexOf(Buffer buffer, byte b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buffer.getByte(i) == b) {
        return i;
      }
    }
    return -1;
  }

  private void tooLong() {
    enqueueDone("[Error] line too long: at most " + config.maxLineBytes() + " bytes (tcp.maxLineBytes)");
    finish();
  }

  private void handleLine(String raw) {
    String line = raw.strip();
    if (line.isEmpty() || line.equalsIgnoreCase("quit")) {
      finish();
      return;
    }
    // each line is a request of its own, in a trace of its own (the protocol has no room for a caller's)
    Span span = Traces.startRequest("TCP line", null);
    // words are separated by any run of whitespace (a CR, VT or FF too: "7\riterative" was one bad word, found by
    // fuzzing, while "7 \riterative" was two)
    String[] parts = spaced(line) ? line.split("\\s+") : new String[] {line};
    if (parts.length > 2) {
      enqueueDone("[Error] expected 'n' or 'n algorithm', got " + parts.length + " words");
      Traces.fail(span, "bad line");
      return;
    }
    FibRequest request;
    try {
      request = FibRequest.parse(parts[0], parts.length == 2 ? parts[1] : null, config.limits());
    } catch (ServiceError e) {
      enqueueDone("[Error] " + e.getMessage());
      Traces.fail(span, e.getMessage());
      return;
    }
    if (span != null) {
      span.setAttribute("fib.n", request.n());
      span.setAttribute("fib.algorithm", request.algorithm().wireName());
    }
    if (request.algorithm() == Algorithm.DOUBLING && request.n() <= Fibonacci.MAX_LONG_N) {
      if (owed == 0) {
        // nothing owed before it: out at once, without a slot
        write(SMALL[request.n()]);
        metrics.tcpLine();
        changed();
        Traces.end(span);
        return;
      }
      Pending slot = enqueue();
      slot.bytes = SMALL[request.n()];
      flush();
      Traces.end(span);
      return;
    }
    // the line protocol has no request ids of its own: the logs get a fresh one, never the cancel id
    String cancelId = work.add(null);
    Pending slot = enqueue();
    Scope scope = Traces.enter(span);
    fib.compute(request, RequestIds.next(), cancelId)
      .onComplete(ar -> {
        work.remove(cancelId);
        if (ar.succeeded()) {
          slot.reply = ar.result().getString("value");
          Traces.end(span);
        } else {
          slot.reply = "[Error] " + ServiceError.from(ar.cause()).getMessage();
          Traces.fail(span, slot.reply);
        }
        flush();
      });
    Traces.exit(scope);
  }

  private void enqueueDone(String reply) {
    Pending slot = enqueue();
    slot.reply = reply;
    flush();
  }

  /** A new slot at the end of the queue. */
  private Pending enqueue() {
    Pending slot = new Pending();
    if (last == null) {
      first = slot;
    } else {
      last.next = slot;
    }
    last = slot;
    owed++;
    return slot;
  }

  /** Writes every reply at the head of the queue that is ready, in order. */
  private void flush() {
    if (isClosed()) {
      return;
    }
    while (first != null && first.ready()) {
      Pending slot = first;
      first = slot.next;
      if (first == null) {
        last = null;
      }
      owed--;
      if (slot.bytes != null) {
        write(slot.bytes);
      } else {
        write(slot.reply + "\n");
      }
      metrics.tcpLine();
    }
    changed();
  }
}
