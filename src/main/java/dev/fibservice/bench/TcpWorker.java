package dev.fibservice.bench;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Line-protocol worker: {@code connections} sockets, each with up to {@code pipeline} lines in flight. Replies are
 * matched to requests in order (FIFO per connection); a reply starting with {@code [Error]} is an error of kind
 * {@code reply}. A connection that is closed, or whose oldest request exceeds the timeout, fails its in-flight
 * requests and is replaced by a fresh one on the next request.
 */
final class TcpWorker extends Worker {

  private static final byte[] ERROR_PREFIX = "[Error]".getBytes(StandardCharsets.US_ASCII);
  private static final int DISCONNECTED = 0;
  private static final int CONNECTING = 1;
  private static final int READY = 2;

  private final int depth;
  private final long timeoutNanos;
  private final Conn[] conns;
  /** Connections that can take a request now: ready with room, or disconnected (the request triggers a connect). */
  private final ArrayDeque<Conn> available = new ArrayDeque<>();
  private final List<Conn> dirty = new ArrayList<>();
  private NetClient client;
  private Buffer lines;
  private int lineLength;
  private byte[] scratch = new byte[8192];
  private long sweepTimer = -1;

  TcpWorker(int index, BenchOptions.Plan plan, SocketAddress server, int cap, int connections) {
    super(index, plan, server, cap);
    this.depth = plan.pipeline();
    this.timeoutNanos = plan.timeout().toNanos();
    this.conns = new Conn[connections];
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
  void onPhaseStart() {
    available.clear();
    for (Conn c : conns) {
      if (c.state != CONNECTING) {   // connecting ones re-enter when their connect completes
        c.queued = true;
        available.add(c);
      }
    }
    long period = Math.max(10, Math.min(1000, timeoutNanos / 4_000_000));
    sweepTimer = vertx.setPeriodic(period, id -> sweepTimeouts());
  }

  @Override
  void onPhaseEnd() {
    if (sweepTimer != -1) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  @Override
  void onAbort() {
    for (Conn c : conns) {
      c.size = 0;
      c.unwritten = 0;
      if (c.socket != null) {
        c.socket.close();
      }
      c.dead = true;
    }
  }

  @Override
  boolean hasCapacity() {
    Conn c = available.peekFirst();
    while (c != null && (c.dead || !c.hasRoom())) {
      available.pollFirst();
      c.queued = false;
      c = available.peekFirst();
    }
    return c != null;
  }

  @Override
  void issue(long intended, long now) {
    Conn c = available.peekFirst();   // hasCapacity() guaranteed it is usable
    c.push(intended, now);
    if (c.state == DISCONNECTED) {
      available.pollFirst();
      c.queued = false;
      c.unwritten = 1;
      connect(c);
      return;
    }
    if (c.unwritten++ == 0) {
      dirty.add(c);
    }
    if (c.size == depth) {
      available.pollFirst();
      c.queued = false;
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
    int k = c.unwritten;
    if (k > 0 && !c.dead && c.state == READY) {
      c.unwritten = 0;
      // one write (one syscall at most) for every line queued on this connection during this pump
      c.socket.write(k == depth ? lines : lines.slice(0, k * lineLength));
    }
  }

  private void connect(Conn c) {
    c.state = CONNECTING;
    client.connect(server).onComplete(ar -> {
      if (stopped || c.dead) {
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

  private void offer(Conn c) {
    if (!c.queued && !c.dead && c.hasRoom()) {
      c.queued = true;
      available.addLast(c);
    }
  }

  /** Fails every request in flight on {@code c} with {@code kind} and replaces the connection. */
  private void fail(Conn c, int kind) {
    if (c.dead) {
      return;
    }
    c.dead = true;
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

  private void sweepTimeouts() {
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    boolean any = false;
    for (Conn c : conns) {
      if (c.size > 0 && now - c.sent[c.head] > timeoutNanos) {
        fail(c, Stats.TIMEOUT);
        any = true;
      }
    }
    if (any) {
      settle();
    }
  }

  private final class Conn implements Handler<Buffer> {
    final int slot;
    final long[] intended = new long[depth];
    final long[] sent = new long[depth];
    int head;
    int size;
    int unwritten;
    int state = DISCONNECTED;
    boolean queued;
    boolean dead;
    NetSocket socket;
    // reply parser state
    int lineBytes;
    int match;     // bytes of "[Error]" matched at the start of the current reply, -1 once it cannot match

    final Handler<Throwable> onError = t -> {
      if (!stopped && !dead) {
        fail(this, Stats.classify(t) == Stats.TIMEOUT ? Stats.TIMEOUT : Stats.READ_RESET);
        settle();
      }
    };
    final Handler<Void> onClose = v -> {
      if (!stopped && !dead) {
        fail(this, Stats.READ_RESET);
        settle();
      }
    };

    Conn(int slot) {
      this.slot = slot;
    }

    boolean hasRoom() {
      return size < depth && state != CONNECTING;
    }

    void push(long intendedAt, long sentAt) {
      int i = head + size;
      if (i >= depth) {
        i -= depth;
      }
      intended[i] = intendedAt;
      sent[i] = sentAt;
      size++;
    }

    @Override
    public void handle(Buffer buf) {
      if (stopped || dead) {
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
          long in = intended[head];
          long se = sent[head];
          if (++head == depth) {
            head = 0;
          }
          size--;
          long now = System.nanoTime();
          if (error) {
            failedWithLatency(in, se, bytes, now, 0);
          } else {
            succeeded(in, se, bytes, now);
          }
          completedAny = true;
        } else if (match >= 0 && match < ERROR_PREFIX.length) {
          match = b == ERROR_PREFIX[match] ? match + 1 : -1;
        }
      }
      if (completedAny || dead) {
        offer(this);
        settle();
      }
    }
  }
}
