package dev.fibservice.tcp;

import dev.fibservice.Addresses;
import dev.fibservice.ServiceError;
import dev.fibservice.cluster.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One TCP connection: splits lines, computes each through the event bus, and writes the replies in
 * the order the lines came, however the computations finish. Reading pauses while too many lines are
 * in flight or the client is not reading its replies, so a connection never queues without bound.
 */
final class LineSession {

  /** The protocol's limits, read once from the settings. */
  record Config(int maxLineBytes, int maxPipelined, FibRequest.Limits limits) {
    static Config from(Settings settings) {
      return new Config(settings.getInt(Settings.TCP_MAX_LINE), settings.getInt(Settings.TCP_MAX_PIPELINED),
        FibRequest.Limits.from(settings));
    }
  }

  /** A reply slot: filled when its computation ends, written once every earlier slot is written. */
  private static final class Pending {
    final String id;
    String reply;

    Pending(String id) {
      this.id = id;
    }
  }

  private static final byte LF = '\n';

  private final Vertx vertx;
  private final NetSocket socket;
  private final Config config;
  private final Metrics metrics;
  private final Runnable onClose;
  private final ComputeClient fib;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  /** Bytes received but not yet taken as lines (a partial line, or lines held back while paused). */
  private Buffer input = Buffer.buffer();
  private boolean paused;
  private boolean draining;
  private boolean ended;
  private boolean closing;
  private boolean closed;

  LineSession(Vertx vertx, NetSocket socket, Config config, ComputeClient fib, Metrics metrics, Runnable onClose) {
    this.vertx = vertx;
    this.socket = socket;
    this.config = config;
    this.fib = fib;
    this.metrics = metrics;
    this.onClose = onClose;
  }

  void start() {
    socket.handler(this::received);
    socket.closeHandler(v -> {
      closed = true;
      onClose.run();
      for (Pending p : pending) {
        if (p.reply == null && p.id != null) {
          vertx.eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", p.id));
        }
      }
      pending.clear();
    });
    socket.drainHandler(v -> updateFlow());
    socket.exceptionHandler(e -> socket.close());
  }

  private void received(Buffer data) {
    input.appendBuffer(data);
    drainLines();
  }

  /** Takes complete lines from the input while the connection may take more work. */
  private void drainLines() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      int start = 0;
      int length = input.length();
      while (!closing && !mustPause()) {
        int end = indexOf(input, LF, start, length);
        if (end < 0) {
          break;
        }
        int lineEnd = end > start && input.getByte(end - 1) == '\r' ? end - 1 : end;
        if (lineEnd - start > config.maxLineBytes()) {
          tooLong();
          return;
        }
        String line = input.getString(start, lineEnd, StandardCharsets.UTF_8.name());
        start = end + 1;
        handleLine(line);
      }
      if (start > 0) {
        input = input.getBuffer(start, length);
      }
      if (!closing && input.length() > config.maxLineBytes() + 1 && indexOf(input, LF, 0, input.length()) < 0) {
        tooLong();
        return;
      }
    } finally {
      draining = false;
    }
    updateFlow();
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
    closing = true;
    enqueueDone("[Error] line too long: at most " + config.maxLineBytes() + " bytes (tcp.maxLineBytes)");
  }

  private void handleLine(String raw) {
    String line = raw.strip();
    if (line.isEmpty() || line.equalsIgnoreCase("quit")) {
      closing = true;
      closeWhenFlushed();
      return;
    }
    String[] parts = line.split("\\s+");
    if (parts.length > 2) {
      enqueueDone("[Error] expected 'n' or 'n algorithm', got " + parts.length + " words");
      return;
    }
    FibRequest request;
    try {
      request = FibRequest.parse(parts[0], parts.length == 2 ? parts[1] : null, config.limits());
    } catch (ServiceError e) {
      enqueueDone("[Error] " + e.getMessage());
      return;
    }
    String id = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    Pending slot = new Pending(id);
    pending.add(slot);
    fib.compute(request, id)
      .onComplete(ar -> {
        if (ar.succeeded()) {
          slot.reply = ar.result().getString("value");
        } else {
          slot.reply = "[Error] " + ServiceError.from(ar.cause()).getMessage();
        }
        flush();
      });
  }

  private void enqueueDone(String reply) {
    Pending slot = new Pending(null);
    slot.reply = reply;
    pending.add(slot);
    flush();
  }

  /** Writes every reply at the head of the queue that is ready, in order. */
  private void flush() {
    if (closed) {
      return;
    }
    while (!pending.isEmpty() && pending.peek().reply != null) {
      socket.write(pending.poll().reply + "\n");
      metrics.tcpLine();
    }
    if (closing) {
      closeWhenFlushed();
    } else {
      updateFlow();
    }
  }

  private boolean mustPause() {
    return pending.size() >= config.maxPipelined() || socket.writeQueueFull();
  }

  private void updateFlow() {
    if (closing || closed) {
      return;
    }
    boolean shouldPause = mustPause();
    if (shouldPause && !paused) {
      paused = true;
      socket.pause();
    } else if (!shouldPause && paused) {
      paused = false;
      socket.resume();
      drainLines();
    }
  }

  private void closeWhenFlushed() {
    if (pending.isEmpty() && !closed && !ended) {
      ended = true;
      socket.end();
    } else {
      // no more input is taken; the last reply's flush() closes the connection
      socket.pause();
    }
  }
}
