package dev.fibservice.bench;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;

/**
 * Line-protocol worker: {@code connections} sockets, each with up to {@code pipeline} lines in flight. Replies are
 * matched to requests in order (FIFO per connection); a reply starting with {@code [Error]} is an error of kind
 * {@code reply}. A connection that is closed, or whose oldest request exceeds the timeout, fails its in-flight
 * requests and is replaced by a fresh one on the next request.
 */
final class TcpWorker extends PipelinedWorker<TcpWorker.Conn> {

  private static final byte[] ERROR_PREFIX = "[Error]".getBytes(StandardCharsets.US_ASCII);

  private NetClient client;
  private Buffer lines;
  private int lineLength;
  private byte[] scratch = new byte[8192];

  TcpWorker(int index, BenchOptions.Plan plan, SocketAddress server, int cap, int connections) {
    super(index, plan, server, cap, new Conn[connections],
      Math.max(10, Math.min(1000, plan.timeout().toNanos() / 4_000_000)));
  }

  @Override
  public Future<?> start() {
    client = vertx.createNetClient(new NetClientOptions()
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, plan.timeout().toMillis()))
      .setTcpNoDelay(true)
      .setReconnectAttempts(0));
    byte[] line = (plan.line() + "\n").getBytes(StandardCharsets.UTF_8);
    lineLength = line.length;
    Buffer b = Buffer.buffer(line.length * depth);
    for (int i = 0; i < depth; i++) {
      b.appendBytes(line);
    }
    lines = b;
    for (int i = 0; i < conns.length; i++) {
      conns[i] = new Conn(i);
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    return client == null ? Future.succeededFuture() : client.close();
  }

  @Override
  void onAbort() {
    for (Conn c : conns) {
      c.size = 0;
      c.unwritten = 0;
      if (c.socket != null) {
        c.socket.close();
      }
      c.state = CLOSED;
    }
  }

  @Override
  void issue(long intended, long now) {
    Conn c = enqueue(intended, now);
    if (c != null) {
      connect(c);
    }
  }

  @Override
  void flush() {
    for (int i = 0, n = dirty.size(); i < n; i++) {
      writeUnwritten(dirty.get(i));
    }
    dirty.clear();
  }

  private void writeUnwritten(Conn c) {
    int k = c.takeUnwritten();
    if (k > 0) {
      // one write (one syscall at most) for every line queued on this connection during this pump
      c.socket.write(k == depth ? lines : lines.slice(0, k * lineLength));
    }
  }

  private void connect(Conn c) {
    c.state = CONNECTING;
    client.connect(server).onComplete(ar -> {
      if (stopped || c.state == CLOSED) {
        if (ar.succeeded()) {
          ar.result().close();
        }
        return;
      }
      if (ar.failed()) {
        fail(c, Stats.CONNECT);
        settle();
        return;
      }
      NetSocket s = ar.result();
      c.socket = s;
      c.state = READY;
      s.handler(c);
      s.exceptionHandler(c.onError);
      s.closeHandler(c.onClose);
      writeUnwritten(c);
      offer(c);
      settle();
    });
  }

  /** Fails every request in flight on {@code c} with {@code kind} and replaces the connection. */
  @Override
  void fail(Conn c, int kind) {
    if (c.state == CLOSED) {
      return;
    }
    c.state = CLOSED;
    int n = c.size;
    c.size = 0;
    c.unwritten = 0;
    if (c.socket != null) {
      c.socket.close();
    }
    Conn fresh = new Conn(c.slot);
    conns[c.slot] = fresh;
    offer(fresh);
    for (int i = 0; i < n; i++) {
      failed(kind);
    }
  }

  final class Conn extends PipelinedWorker.Slot implements Handler<Buffer> {
    final int slot;
    NetSocket socket;
    // reply parser state
    int lineBytes;
    int match;     // bytes of "[Error]" matched at the start of the current reply, -1 once it cannot match

    final Handler<Throwable> onError = t -> {
      if (!stopped && state != CLOSED) {
        fail(this, Stats.classify(t) == Stats.TIMEOUT ? Stats.TIMEOUT : Stats.READ_RESET);
        settle();
      }
    };
    final Handler<Void> onClose = v -> {
      if (!stopped && state != CLOSED) {
        fail(this, Stats.READ_RESET);
        settle();
      }
    };

    Conn(int slot) {
      super(TcpWorker.this.depth);
      this.slot = slot;
    }

    @Override
    public void handle(Buffer buf) {
      if (stopped || state == CLOSED) {
        return;
      }
      int len = buf.length();
      if (scratch.length < len) {
        scratch = new byte[Math.max(len, scratch.length * 2)];
      }
      byte[] data = scratch;
      buf.getBytes(0, len, data, 0);
      boolean completedAny = false;
      for (int i = 0; i < len; i++) {
        byte b = data[i];
        lineBytes++;
        if (b == '\n') {
          boolean error = match == ERROR_PREFIX.length;
          int bytes = lineBytes;
          lineBytes = 0;
          match = 0;
          if (size == 0) {
            // a reply nobody asked for: the stream is out of step, drop this connection
            fail(this, Stats.READ_RESET);
            break;
          }
          answered(this, bytes, System.nanoTime(), error, 0);
          completedAny = true;
        } else if (match >= 0 && match < ERROR_PREFIX.length) {
          match = b == ERROR_PREFIX[match] ? match + 1 : -1;
        }
      }
      if (completedAny || state == CLOSED) {
        offer(this);
        settle();
      }
    }
  }
}
