package dev.fibservice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The client side of the idle-connections scenario ({@link ConnMemScenario}), as a process of its own (a process may
 * hold 20,000 descriptors here): opens N connections of one kind, makes one exchange on each, then keeps them open and
 * idle until a line {@code close} (or the end) of its standard input, reading and dropping whatever the server sends
 * meanwhile (SockJS heartbeats). Its sources rotate over 127.0.1.1 to 127.0.1.S, so N is not bound by one source
 * address's ephemeral ports.
 *
 * <p>Kinds and their exchange: {@code http} one {@code GET path} (keep-alive) and its whole response; {@code tcp} a
 * line {@code 1} and its reply line; {@code bridge} a {@code ping} frame and the {@code pong}; {@code sockjs} the
 * WebSocket upgrade of {@code path/000/<session>/websocket} and SockJS's open frame.
 *
 * <p>Prints one JSON line when the connections are open ({@code {"open":..,"failed":..,"ms":..}}), one when they
 * are closed, and exits.
 *
 * <p>Run: {@code java -cp <bench classpath> dev.fibservice.bench.IdleClient KIND PORT N [PATH] [SOURCES]}.
 */
public final class IdleClient {

  /** Connections being opened or in their exchange at once: well under the servers' accept backlogs. */
  private static final int IN_PROGRESS = 256;
  private static final long EXCHANGE_TIMEOUT_MS = 30_000;

  private enum Kind { HTTP, TCP, BRIDGE, SOCKJS }

  /** One connection and its exchange's progress. */
  private static final class Conn {
    final SocketChannel channel;
    final ByteBuffer out;
    final StringBuilder in = new StringBuilder();
    int frameBytes = -1;
    boolean done;

    Conn(SocketChannel channel, ByteBuffer out) {
      this.channel = channel;
      this.out = out;
    }
  }

  private final Kind kind;
  private final InetSocketAddress target;
  private final int n;
  private final String path;
  private final int sources;
  private final Selector selector;
  private final ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
  private final List<Conn> conns = new ArrayList<>();
  private int inProgress;
  private volatile int open;
  private volatile int failed;
  private String firstFailure;

  private IdleClient(Kind kind, int port, int n, String path, int sources) throws IOException {
    this.kind = kind;
    this.target = new InetSocketAddress("127.0.0.1", port);
    this.n = n;
    this.path = path;
    this.sources = sources;
    this.selector = Selector.open();
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: IdleClient http|tcp|bridge|sockjs PORT N [PATH] [SOURCES]");
      System.exit(2);
    }
    Kind kind = Kind.valueOf(args[0].toUpperCase(Locale.ROOT));
    String path = args.length > 3 ? args[3] : kind == Kind.SOCKJS ? "/eventbus" : "/hello";
    int sources = args.length > 4 ? Integer.parseInt(args[4]) : 8;
    IdleClient client = new IdleClient(kind, Integer.parseInt(args[1]), Integer.parseInt(args[2]), path, sources);
    long t0 = System.nanoTime();
    client.openAll();
    System.out.printf(Locale.ROOT, "{\"open\":%d,\"failed\":%d,\"ms\":%d,\"firstFailure\":%s}%n", client.open,
      client.failed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
      client.firstFailure == null ? "null" : "\"" + client.firstFailure.replace("\"", "'") + "\"");
    System.out.flush();
    client.idleUntilTold();
    client.closeAll();
    System.out.println("{\"closed\":true}");
    System.out.flush();
  }

  private void openAll() throws IOException {
    int started = 0;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EXCHANGE_TIMEOUT_MS) + n * 2_000_000L;
    while ((started < n || inProgress > 0) && System.nanoTime() < deadline) {
      while (started < n && inProgress < IN_PROGRESS) {
        start(started++);
      }
      selector.select(100);
      for (SelectionKey key : selector.selectedKeys()) {
        handle(key);
      }
      selector.selectedKeys().clear();
    }
    for (Conn c : conns) {
      if (!c.done && c.channel.isOpen()) {
        fail(c, "no answer within the time allowed");
      }
    }
  }

  private void start(int i) throws IOException {
    SocketChannel channel = SocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(new InetSocketAddress("127.0.1." + (1 + i % sources), 0));
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Conn c = new Conn(channel, ByteBuffer.wrap(request(i)));
      conns.add(c);
      inProgress++;
      if (channel.connect(target)) {
        channel.register(selector, SelectionKey.OP_WRITE, c);
      } else {
        channel.register(selector, SelectionKey.OP_CONNECT, c);
      }
    } catch (IOException e) {
      channel.close();
      failed++;
      if (firstFailure == null) {
        firstFailure = "connect: " + e;
      }
    }
  }

  private byte[] request(int i) {
    return switch (kind) {
      case HTTP -> ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      case TCP -> "1\n".getBytes(StandardCharsets.US_ASCII);
      case BRIDGE -> {
        byte[] json = "{\"type\":\"ping\"}".getBytes(StandardCharsets.US_ASCII);
        yield ByteBuffer.allocate(4 + json.length).putInt(json.length).put(json).array();
      }
      // a session id of this process's own: sessions of an earlier run may still be there
      case SOCKJS -> ("GET " + path + "/000/p" + ProcessHandle.current().pid() + "s" + i + "/websocket HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    };
  }

  private void handle(SelectionKey key) {
    Conn c = (Conn) key.attachment();
    try {
      if (key.isConnectable()) {
        c.channel.finishConnect();
        key.interestOps(SelectionKey.OP_WRITE);
      } else if (key.isWritable()) {
        c.channel.write(c.out);
        if (!c.out.hasRemaining()) {
          key.interestOps(SelectionKey.OP_READ);
        }
      } else if (key.isReadable()) {
        read(key, c);
      }
    } catch (IOException e) {
      key.cancel();
      fail(c, e.toString());
    }
  }

  private void read(SelectionKey key, Conn c) throws IOException {
    scratch.clear();
    int r = c.channel.read(scratch);
    if (r < 0) {
      key.cancel();
      fail(c, c.done ? "closed by the server while idle" : "closed by the server: " + abbreviate(c.in));
      return;
    }
    if (c.done) {
      return; // a heartbeat or a push: read and dropped
    }
    scratch.flip();
    byte[] bytes = new byte[scratch.remaining()];
    scratch.get(bytes);
    if (kind == Kind.BRIDGE) {
      c.in.append(new String(bytes, StandardCharsets.ISO_8859_1));
      if (c.frameBytes < 0 && c.in.length() >= 4) {
        byte[] h = c.in.substring(0, 4).getBytes(StandardCharsets.ISO_8859_1);
        c.frameBytes = ByteBuffer.wrap(h).getInt();
      }
      if (c.frameBytes >= 0 && c.in.length() >= 4 + c.frameBytes) {
        answered(c, c.in.substring(4).contains("pong"));
      }
      return;
    }
    c.in.append(new String(bytes, StandardCharsets.ISO_8859_1));
    switch (kind) {
      case TCP -> {
        if (c.in.indexOf("\n") >= 0) {
          answered(c, c.in.toString().startsWith("1"));
        }
      }
      case HTTP -> {
        int head = c.in.indexOf("\r\n\r\n");
        if (head >= 0) {
          int length = contentLength(c.in.substring(0, head));
          if (c.in.length() >= head + 4 + length) {
            answered(c, c.in.toString().startsWith("HTTP/1.1 200"));
          }
        }
      }
      case SOCKJS -> {
        int head = c.in.indexOf("\r\n\r\n");
        // the open frame: a final text frame of one byte, "o"
        if (head >= 0 && c.in.length() >= head + 7) {
          answered(c, c.in.toString().startsWith("HTTP/1.1 101") && c.in.indexOf("\u0081\u0001o", head) > 0);
        }
      }
      default -> throw new IllegalStateException();
    }
  }

  private void answered(Conn c, boolean ok) {
    if (!ok) {
      fail(c, "unexpected answer: " + abbreviate(c.in));
      return;
    }
    c.done = true;
    c.in.setLength(0);
    c.in.trimToSize();
    inProgress--;
    open++;
  }

  private void fail(Conn c, String why) {
    if (!c.done) {
      inProgress--;
    } else {
      open--;
    }
    c.done = true;
    failed++;
    if (firstFailure == null) {
      firstFailure = why;
    }
    try {
      c.channel.close();
    } catch (IOException ignore) {
      // gone already
    }
  }

  private static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
        return Integer.parseInt(line.substring(15).trim());
      }
    }
    return 0;
  }

  private static String abbreviate(CharSequence s) {
    String t = s.toString().replaceAll("[\\r\\n]+", " ");
    return t.length() > 120 ? t.substring(0, 120) + "..." : t;
  }

  /** Idle (reading and dropping) until stdin says close or ends; connections the server closes are counted. */
  private void idleUntilTold() throws Exception {
    Thread stdin = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null && !line.trim().equals("close")) {
          if (line.trim().equals("status")) {
            System.out.printf(Locale.ROOT, "{\"open\":%d,\"failed\":%d}%n", open, failed);
            System.out.flush();
          }
        }
      } catch (IOException ignore) {
        // the parent went away: close
      }
      selector.wakeup();
    }, "idle-client-stdin");
    stdin.setDaemon(true);
    stdin.start();
    while (stdin.isAlive()) {
      selector.select(1000);
      for (SelectionKey key : selector.selectedKeys()) {
        if (key.isValid() && key.isReadable()) {
          try {
            read(key, (Conn) key.attachment());
          } catch (IOException e) {
            key.cancel();
            fail((Conn) key.attachment(), "reset while idle: " + e);
          }
        }
      }
      selector.selectedKeys().clear();
    }
  }

  private void closeAll() throws IOException {
    for (Conn c : conns) {
      c.channel.close();
    }
    selector.close();
  }
}
