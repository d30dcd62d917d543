package dev.fibservice.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.SocketAddress;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 worker on raw Netty channels of this worker's event loop: the request is encoded once and every send writes
 * a duplicate of it; responses are parsed in place (status, Content-Length, chunked, Connection: close, bodies until
 * close) without building header maps or response objects. {@code connections} sockets, each with up to
 * {@code pipeline} requests in flight, replies matched in order; without keep-alive each request opens its own
 * connection, sends {@code Connection: close} and the connection is closed after its response, as ab and wrk do.
 */
final class HttpWorker extends PipelinedWorker<HttpWorker.Conn> {

  private static final int STATUS_LINE = 0;
  private static final int HEADERS = 1;
  private static final int BODY = 2;
  private static final int CHUNK_SIZE = 3;
  private static final int CHUNK_DATA = 4;
  private static final int CHUNK_END = 5;
  private static final int TRAILERS = 6;
  private static final int UNTIL_CLOSE = 7;

  /** Longest status or header line accepted; a longer one is a protocol error. */
  private static final int MAX_LINE = 64 * 1024;

  private final boolean keepAlive;
  private final boolean headMethod;
  private EventLoop eventLoop;
  private ChannelFactory<? extends Channel> channels;
  private int connectTimeoutMs;
  private InetSocketAddress remote;
  private ByteBuf request;

  HttpWorker(int index, BenchOptions.Plan plan, SocketAddress server, int cap, int connections) {
    super(index, plan, server, cap, new Conn[connections],
      Math.max(5, Math.min(500, plan.timeout().toNanos() / 10_000_000)));
    this.keepAlive = plan.keepAlive();
    this.headMethod = "HEAD".equals(plan.method());
  }

  /** The request as it goes on the wire: request line, Host, the user's headers, Content-Length, the body. */
  static byte[] encodeRequest(BenchOptions.Plan plan) {
    BenchOptions.Target t = plan.target();
    StringBuilder sb = new StringBuilder(128);
    sb.append(plan.method()).append(' ').append(t.requestUri()).append(" HTTP/1.1\r\n");
    boolean host = false;
    boolean length = false;
    boolean connection = false;
    for (Map.Entry<String, String> h : plan.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      host |= name.equals("host");
      length |= name.equals("content-length");
      connection |= name.equals("connection");
    }
    if (!host) {
      sb.append("Host: ").append(t.authorityHost()).append(t.port() == 80 ? "" : ":" + t.port()).append("\r\n");
    }
    for (Map.Entry<String, String> h : plan.headers()) {
      sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    byte[] body = plan.body();
    if (body != null && !length) {
      sb.append("Content-Length: ").append(body.length).append("\r\n");
    }
    if (!plan.keepAlive() && !connection) {
      sb.append("Connection: close\r\n");
    }
    sb.append("\r\n");
    byte[] headBytes = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (body == null) {
      return headBytes;
    }
    byte[] all = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }

  @Override
  public Future<?> start() {
    eventLoop = ((ContextInternal) context).nettyEventLoop();
    channels = ((VertxInternal) vertx).transport().channelFactory(false);
    connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, plan.timeout().toMillis());
    remote = new InetSocketAddress(server.hostAddress(), server.port());
    // read-only and never released by the writes: each write sends a duplicate with its own indexes
    request = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(encodeRequest(plan)).asReadOnly());
    for (int i = 0; i < conns.length; i++) {
      conns[i] = new Conn();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    for (Conn c : conns) {
      if (c != null) {
        c.closeChannel();
      }
    }
    return Future.succeededFuture();
  }

  @Override
  void onAbort() {
    for (Conn c : conns) {
      c.size = 0;
      c.unwritten = 0;
      c.closeChannel();
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
    Channel ch = c.channel;
    int k = ch == null ? 0 : c.takeUnwritten();
    if (k > 0) {
      for (int i = 1; i < k; i++) {
        ch.write(request.duplicate(), ch.voidPromise());
      }
      // one flush, so one write syscall at most, for every request queued on this connection during this pump
      ch.writeAndFlush(request.duplicate(), ch.voidPromise());
    }
  }

  /**
   * A new channel for {@code c}, registered on this worker's event loop and connecting. Done by hand rather than by a
   * {@code Bootstrap}, which copies its option and attribute maps and asks a resolver for every connection: without
   * keep-alive that is once per request.
   */
  private void connect(Conn c) {
    c.state = CONNECTING;
    c.resetParser();
    Channel ch = channels.newChannel();
    ch.config().setOption(ChannelOption.TCP_NODELAY, true);
    ch.config().setConnectTimeoutMillis(connectTimeoutMs);
    ch.pipeline().addLast(c.events);
    c.channel = ch;
    ChannelFuture registered = eventLoop.register(ch);
    if (registered.isDone()) {
      c.registered(registered);
    } else {
      registered.addListener(c.onRegistered);
    }
  }

  /** Fails every request in flight on {@code c} with {@code kind}; the connection is replaced on its next request. */
  @Override
  void fail(Conn c, int kind) {
    int n = c.size;
    c.retire();
    for (int i = 0; i < n; i++) {
      failed(kind);
    }
  }

  /**
   * One connection slot: the channel it currently carries (replaced after a close), its requests in flight (FIFO) and
   * the response parser. Shared across the channels it carries one after another; events of a channel it no longer
   * carries are ignored.
   */
  final class Conn extends PipelinedWorker.Slot implements ChannelFutureListener {
    /** This slot's handler in the pipeline of each channel it carries. */
    final Events events = new Events();
    Channel channel;

    // response parser
    int parse;
    int status;
    long contentLength;
    boolean chunked;
    boolean closeAfter;
    long remaining;
    long responseBytes;
    byte[] line = new byte[256];
    int lineLength;
    boolean completedAny;

    Conn() {
      super(HttpWorker.this.depth);
    }

    void resetParser() {
      parse = STATUS_LINE;
      status = 0;
      contentLength = -1;
      chunked = false;
      closeAfter = false;
      remaining = 0;
      responseBytes = 0;
      lineLength = 0;
    }

    void closeChannel() {
      Channel ch = channel;
      channel = null;
      if (ch != null) {
        ch.close();
      }
    }

    /** Drops the channel and every request on it (the caller counts them); the slot connects anew when used. */
    void retire() {
      closeChannel();
      state = DISCONNECTED;
      size = 0;
      head = 0;
      unwritten = 0;
      resetParser();
      offer(this);
    }

    final ChannelFutureListener onRegistered = this::registered;

    /** Registration outcome: connect, or fail as a connect error. */
    void registered(ChannelFuture f) {
      if (f.channel() != channel || stopped) {
        f.channel().close();
        return;
      }
      if (!f.isSuccess()) {
        operationComplete(f);
        return;
      }
      ChannelFuture connected = f.channel().connect(remote);
      if (connected.isDone()) {
        operationComplete(connected);
      } else {
        connected.addListener(this);
      }
    }

    /** Connect outcome. */
    @Override
    public void operationComplete(ChannelFuture f) {
      if (f.channel() != channel || stopped) {
        if (f.isSuccess() && f.channel() != channel) {
          f.channel().close();
        }
        return;
      }
      if (!f.isSuccess()) {
        fail(this, Stats.classify(f.cause()));
        settle();
        return;
      }
      state = READY;
      writeUnwritten(this);
      offer(this);
      settle();
    }

    void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        if (ctx.channel() != channel || stopped) {
          return;
        }
        completedAny = false;
        read(buf);
      } finally {
        buf.release();
      }
      if (completedAny) {
        settle();
      }
    }

    void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel() != channel || stopped) {
        return;
      }
      if (parse == UNTIL_CLOSE && size > 0) {
        // a response without length ends with its connection
        complete();
        settle();
        return;
      }
      fail(this, Stats.READ_RESET);
      settle();
    }

    void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (ctx.channel() != channel || stopped) {
        ctx.close();
        return;
      }
      int kind = Stats.classify(cause);
      fail(this, kind == Stats.TIMEOUT ? Stats.TIMEOUT : kind == Stats.CONNECT ? Stats.CONNECT : Stats.READ_RESET);
      settle();
    }

    private void read(ByteBuf buf) {
      int i = buf.readerIndex();
      int end = buf.writerIndex();
      while (i < end && channel != null) {
        switch (parse) {
          case BODY, CHUNK_DATA -> {
            int n = (int) Math.min(remaining, end - i);
            i += n;
            remaining -= n;
            responseBytes += n;
            if (remaining == 0) {
              if (parse == BODY) {
                complete();
              } else {
                parse = CHUNK_END;
              }
            }
          }
          case UNTIL_CLOSE -> {
            responseBytes += end - i;
            i = end;
          }
          default -> {
            int nl = buf.indexOf(i, end, (byte) '\n');
            int stop = nl < 0 ? end : nl;
            if (!append(buf, i, stop - i)) {
              protocolError();
              return;
            }
            responseBytes += (nl < 0 ? end : nl + 1) - i;
            i = nl < 0 ? end : nl + 1;
            if (nl >= 0) {
              int len = lineLength;
              if (len > 0 && line[len - 1] == '\r') {
                len--;
              }
              lineLength = 0;
              if (!onLine(len)) {
                protocolError();
                return;
              }
            }
          }
        }
      }
    }

    private boolean append(ByteBuf buf, int from, int n) {
      if (n == 0) {
        return true;
      }
      int need = lineLength + n;
      if (need > MAX_LINE) {
        return false;
      }
      if (need > line.length) {
        line = java.util.Arrays.copyOf(line, Math.max(need, line.length * 2));
      }
      buf.getBytes(from, line, lineLength, n);
      lineLength = need;
      return true;
    }

    /** One status, header, chunk-size or trailer line (without CRLF); false when the response is malformed. */
    private boolean onLine(int len) {
      switch (parse) {
        case STATUS_LINE -> {
          if (len == 0) {
            return true;   // stray CRLF between responses
          }
          // HTTP/1.x SSS reason
          if (len < 12 || line[0] != 'H' || line[4] != '/' || line[8] != ' ') {
            return false;
          }
          int s = digit(line[9]) * 100 + digit(line[10]) * 10 + digit(line[11]);
          if (s < 100 || s > 999) {
            return false;
          }
          status = s;
          closeAfter = line[7] == '0';   // HTTP/1.0: closes unless told otherwise
          parse = HEADERS;
        }
        case HEADERS -> {
          if (len > 0) {
            header(len);
            return true;
          }
          if (status >= 100 && status < 200) {
            parse = STATUS_LINE;   // an interim response: the real one follows
          } else if (headMethod || status == 204 || status == 304) {
            complete();
          } else if (chunked) {
            parse = CHUNK_SIZE;
          } else if (contentLength == 0) {
            complete();
          } else if (contentLength > 0) {
            remaining = contentLength;
            parse = BODY;
          } else {
            closeAfter = true;
            parse = UNTIL_CLOSE;
          }
        }
        case CHUNK_SIZE -> {
          long n = 0;
          int digits = 0;
          for (int k = 0; k < len && line[k] != ';' && line[k] != ' '; k++) {
            int d = Character.digit(line[k], 16);
            if (d < 0 || ++digits > 15) {
              return false;
            }
            n = n * 16 + d;
          }
          if (digits == 0) {
            return false;
          }
          if (n == 0) {
            parse = TRAILERS;
          } else {
            remaining = n;
            parse = CHUNK_DATA;
          }
        }
        case CHUNK_END -> {
          if (len != 0) {
            return false;
          }
          parse = CHUNK_SIZE;
        }
        case TRAILERS -> {
          if (len == 0) {
            complete();
          }
        }
        default -> {
          return false;
        }
      }
      return true;
    }

    /** Reads the headers that frame the response; every other header is skipped unread. */
    private void header(int len) {
      int colon = 0;
      while (colon < len && line[colon] != ':') {
        colon++;
      }
      if (colon == len) {
        return;
      }
      if (is("content-length", colon)) {
        long n = 0;
        boolean any = false;
        for (int k = colon + 1; k < len; k++) {
          byte b = line[k];
          if (b >= '0' && b <= '9') {
            n = n * 10 + (b - '0');
            any = true;
          } else if (b != ' ' && b != '\t') {
            any = false;
            break;
          }
        }
        contentLength = any ? n : -1;
      } else if (is("transfer-encoding", colon)) {
        chunked = contains(colon + 1, len, "chunked");
      } else if (is("connection", colon)) {
        if (contains(colon + 1, len, "close")) {
          closeAfter = true;
        } else if (contains(colon + 1, len, "keep-alive")) {
          closeAfter = false;
        }
      }
    }

    private boolean is(String lowerName, int nameLength) {
      if (nameLength != lowerName.length()) {
        return false;
      }
      for (int k = 0; k < nameLength; k++) {
        if ((line[k] | 0x20) != lowerName.charAt(k)) {
          return false;
        }
      }
      return true;
    }

    private boolean contains(int from, int to, String lower) {
      int n = lower.length();
      for (int s = from; s + n <= to; s++) {
        int k = 0;
        while (k < n && (line[s + k] | 0x20) == lower.charAt(k)) {
          k++;
        }
        if (k == n) {
          return true;
        }
      }
      return false;
    }

    /** The response at the head of the FIFO is complete. */
    private void complete() {
      long now = System.nanoTime();
      int st = status;
      long bytes = responseBytes;
      boolean close = closeAfter || !keepAlive;
      resetParser();
      if (size == 0) {
        // a response nobody asked for: the stream is out of step, drop this connection
        fail(this, Stats.READ_RESET);
        completedAny = true;
        return;
      }
      answered(this, bytes, now, st >= 400, st);
      completedAny = true;
      if (close) {
        // the server closes (or was asked to): requests sent behind this one get no answer here
        fail(this, Stats.READ_RESET);
      } else {
        offer(this);
      }
    }

    private void protocolError() {
      fail(this, Stats.OTHER);
      completedAny = true;
    }

    private static int digit(byte b) {
      return b >= '0' && b <= '9' ? b - '0' : -1000;
    }

    /** The Netty side of the slot: the same handler on each channel the slot carries, one after another. */
    @ChannelHandler.Sharable
    final class Events extends ChannelInboundHandlerAdapter {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Conn.this.channelRead(ctx, msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        Conn.this.channelInactive(ctx);
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Conn.this.exceptionCaught(ctx, cause);
      }
    }
  }
}
