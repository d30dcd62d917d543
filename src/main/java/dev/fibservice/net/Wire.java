package dev.fibservice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the servers need of a connection below Vert.x's public API, in one place: half-closed connections (a client's
 * FIN ends its requests, not the connection, so what it sent is still answered) for the TCP, bridge and HTTP
 * servers, and the HTTP/1.1 framing checks that must run inside Vert.x's request decoder.
 *
 * <p>Vert.x 5.0.10 has no public switch for either: Netty closes a connection on FIN unless
 * {@code ALLOW_HALF_CLOSURE} is set on its channel, and Vert.x's decoder drops a Content-Length sent beside a
 * Transfer-Encoding before any handler sees it. So this reaches the Netty channel through Vert.x's
 * {@code ConnectionBase} (an implementation class of the pinned Vert.x version); {@code WireTest} fails if an upgrade
 * changes it. Everything is installed from a server's connection handler, which Vert.x runs while it sets the channel
 * up, before the first read: no byte can arrive before the option is set.
 */
public final class Wire {

  private static final Logger log = LoggerFactory.getLogger(Wire.class);
  private static final AtomicBoolean warned = new AtomicBoolean();

  /** Names of our handlers in the channel pipeline; Vert.x names its own handler "handler". */
  static final String INPUT_END = "fib-input-end";
  static final String HTTP_GUARD = "fib-http-guard";
  static final String VERTX_HANDLER = "handler";
  static final String HTTP_DECODER = "httpDecoder";

  private Wire() {
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
   * JSON error, then the connection closes), and a FIN from the client gets every request received before it
   * answered, in order, before the connection closes. False (and one warning) when the channel cannot be reached.
   */
  public static boolean guardHttp(HttpConnection connection, HttpServerOptions options) {
    Channel channel = channel(connection);
    if (channel == null) {
      return unavailable(connection);
    }
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(HTTP_DECODER) == null || pipeline.get(VERTX_HANDLER) == null) {
      return unavailable(connection);
    }
    pipeline.replace(HTTP_DECODER, HTTP_DECODER, new GuardedRequestDecoder(options));
    pipeline.addBefore(VERTX_HANDLER, HTTP_GUARD, new HttpGuard());
    return channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true) || unavailable(connection);
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
        + " are closed at once and HTTP framing is checked by Vert.x alone", connection.getClass().getName());
    }
    return false;
  }
}
