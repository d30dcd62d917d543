package dev.fibservice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the servers need of a connection below Vert.x's public API, in one place: half-closed connections (a client's
 * FIN ends its requests, not the connection, so what it sent is still answered) for the TCP, bridge and HTTP
 * servers, the HTTP/1.1 framing checks that must run inside Vert.x's request decoder, the HTTP timeouts that start at
 * a request's first byte, and TCP sockets that write without Vert.x's any-thread queue.
 *
 * <p>Vert.x 5.0.10 has no public switch for these: Netty closes a connection on FIN unless
 * {@code ALLOW_HALF_CLOSURE} is set on its channel, Vert.x's decoder drops a Content-Length sent beside a
 * Transfer-Encoding before any handler sees it (and says nothing of a request's first byte), and only its HTTP server
 * has a strict thread mode. So this reaches the Netty channel through Vert.x's {@code ConnectionBase}, and the writer
 * of its {@code VertxConnection} (implementation classes of the pinned Vert.x version); {@code WireTest} fails if an
 * upgrade changes them. Everything is installed from a server's connection handler, which Vert.x runs while it sets
 * the channel up, before the first read: no byte can arrive before the option is set.
 */
public final class Wire {

  private static final Logger log = LoggerFactory.getLogger(Wire.class);
  private static final AtomicBoolean warned = new AtomicBoolean();

  /** Names of our handlers in the channel pipeline; Vert.x names its own handler "handler". */
  static final String INPUT_END = "fib-input-end";
  static final String HTTP_GUARD = "fib-http-guard";
  static final String VERTX_HANDLER = "handler";
  static final String HTTP_DECODER = "httpDecoder";

  /**
   * Vert.x's {@code VertxConnection.outboundMessageQueue} and the constructor of its strict-thread-mode writer
   * ({@code VertxConnection.DirectOutboundMessageQueue}), or null when this Vert.x has not got them.
   */
  private static final Field OUTBOUND_QUEUE;
  private static final Constructor<?> DIRECT_WRITER;

  static {
    Field field = null;
    Constructor<?> direct = null;
    try {
      field = VertxConnection.class.getDeclaredField("outboundMessageQueue");
      field.setAccessible(true);
      direct = Class.forName(VertxConnection.class.getName() + "$DirectOutboundMessageQueue")
        .getDeclaredConstructor(VertxConnection.class);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      field = null;
      direct = null;
    }
    OUTBOUND_QUEUE = field;
    DIRECT_WRITER = direct;
  }

  private Wire() {
  }

  /**
   * For a socket written to from its own event loop only (every socket of ours): its writes go straight to the
   * channel, instead of through the queue Vert.x keeps for writes from any thread, a JCTools MPSC queue whose first
   * chunk of 1,024 slots (4 KB) the connection holds for as long as it is open, idle or not. It is what Vert.x does
   * itself for an HTTP server in strict thread mode ({@code HttpServerOptions.setStrictThreadMode}), which a TCP server
   * has no option for: this puts that mode's writer in place. {@code writeQueueFull()} then follows the channel's own
   * writability (Netty's write-buffer high-water mark), and the drain handler its return. Call it from the connect
   * handler, before the first write. False (and one warning) when this Vert.x has changed: the socket keeps its queue.
   */
  public static boolean writeDirect(NetSocket socket) {
    return socket instanceof VertxConnection connection ? writeDirect(connection) : unavailable(socket);
  }

  /**
   * {@link #writeDirect(NetSocket)} for the WebSocket an HTTP connection was upgraded to (Vert.x hands the channel to
   * a connection object of its own, which has no strict mode either): call it from the WebSocket's handler.
   */
  public static boolean writeDirectUpgraded(HttpConnection upgraded) {
    Channel channel = channel(upgraded);
    if (channel == null || !(channel.pipeline().get(VERTX_HANDLER) instanceof VertxHandler<?> handler)
      || handler.getConnection() == null) {
      return unavailable(upgraded);
    }
    return writeDirect(handler.getConnection());
  }

  private static boolean writeDirect(VertxConnection connection) {
    if (OUTBOUND_QUEUE == null || !connection.channel().eventLoop().inEventLoop()) {
      return unavailable(connection);
    }
    try {
      Object queue = OUTBOUND_QUEUE.get(connection);
      if (DIRECT_WRITER.getDeclaringClass().isInstance(queue)) {
        return true; // an HTTP connection in strict thread mode
      }
      if (connection.writeQueueFull()) {
        return false; // written to already and backed up: what is queued stays in order
      }
      OUTBOUND_QUEUE.set(connection, DIRECT_WRITER.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return unavailable(connection);
    }
  }

  /**
   * For a TCP socket: a FIN from the client no longer closes the connection; the socket's end handler then runs once
   * every byte received before the FIN has reached its data handler, and the close handler means a real close (RST,
   * or a failed write). False (and one warning in the log) when the channel cannot be reached.
   */
  public static boolean allowHalfClose(NetSocket socket) {
    Channel channel = channel(socket);
    if (channel == null || channel.pipeline().get(VERTX_HANDLER) == null) {
      return unavailable(socket);
    }
    // the end marker first: a channel that allowed half-closure without it would never see its client's FIN
    channel.pipeline().addBefore(VERTX_HANDLER, INPUT_END, InputEnd.INSTANCE);
    if (!channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true)) {
      channel.pipeline().remove(INPUT_END);
      return unavailable(socket);
    }
    return true;
  }

  /**
   * For an HTTP/1.x connection: the request decoder refuses ambiguous framing and a missing Host (answered with a
   * JSON error, then the connection closes), a FIN from the client gets every request received before it
   * answered, in order, before the connection closes, and the connection's header and idle timeouts are kept on
   * {@code guards}' sweep (see {@link HttpGuards}), which also hears of its failures and its close. False (and one
   * warning) when the channel cannot be reached: then none of that is done.
   */
  public static boolean guardHttp(HttpConnection connection, HttpServerOptions options, HttpGuards guards) {
    Channel channel = channel(connection);
    if (channel == null) {
      return unavailable(connection);
    }
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(HTTP_DECODER) == null || pipeline.get(VERTX_HANDLER) == null) {
      return unavailable(connection);
    }
    HttpGuard guard = new HttpGuard(guards, connection);
    pipeline.replace(HTTP_DECODER, HTTP_DECODER, new GuardedRequestDecoder(options, guard));
    pipeline.addBefore(VERTX_HANDLER, HTTP_GUARD, guard);
    if (!channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true)) {
      unavailable(connection); // the guard is in: a FIN closes the connection at once, the rest holds
    }
    return true;
  }

  /**
   * Whether the client half-closed this still-open connection (its input is shut down). A socket's end handler also
   * runs when the connection really closes; this tells the two apart.
   */
  public static boolean halfClosed(NetSocket socket) {
    return channel(socket) instanceof DuplexChannel duplex && duplex.isActive() && duplex.isInputShutdown();
  }

  /** The Netty channel of a Vert.x connection or socket, or null when this Vert.x hides it. */
  static Channel channel(Object connection) {
    return connection instanceof ConnectionBase base ? base.channel() : null;
  }

  private static boolean unavailable(Object connection) {
    if (warned.compareAndSet(false, true)) {
      log.warn("cannot set up the channel of {} (Vert.x internals or the transport changed?): half-closed connections"
        + " are closed at once, HTTP framing is checked by Vert.x alone and its timeouts are not kept, or writes go"
        + " through Vert.x's queue", connection.getClass().getName());
    }
    return false;
  }
}
