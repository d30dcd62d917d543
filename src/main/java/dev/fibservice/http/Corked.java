package dev.fibservice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.Future;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;

import java.nio.channels.FileChannel;

/**
 * A file response with TCP_CORK set while it is written, as nginx's {@code tcp_nopush}: the response head and the
 * start of the file leave in full segments instead of the head alone in a small one of its own (the sockets run with
 * TCP_NODELAY), which costs a packet and a system call more for every response.
 * The cork comes off when the file is written (or the write failed), which pushes out the last partial segment.
 *
 * <p>Needs the connection's Netty channel, reached through Vert.x's {@code ConnectionBase} (an implementation class of
 * the pinned Vert.x version; {@code CorkedTest} fails if that changes). On a transport without TCP_CORK (NIO, or
 * not Linux) the file is sent as is.
 */
final class Corked {

  private Corked() {
  }

  static Future<Void> sendFile(HttpServerRequest request, FileChannel file, long length) {
    Channel channel = channel(request.connection());
    if (channel == null || !set(channel, true)) {
      return request.response().sendFile(file, 0, length);
    }
    return request.response().sendFile(file, 0, length).andThen(ar -> set(channel, false));
  }

  /** Whether TCP_CORK is set on the connection's socket (null when it cannot be told). */
  static Boolean isCorked(HttpConnection connection) {
    Channel channel = channel(connection);
    if (channel == null || !channel.isOpen()) {
      return null;
    }
    try {
      return channel.config().getOption(EpollChannelOption.TCP_CORK);
    } catch (ChannelException | UnsupportedOperationException e) {
      return null;
    }
  }

  private static Channel channel(HttpConnection connection) {
    return connection instanceof ConnectionBase base ? base.channel() : null;
  }

  private static boolean set(Channel channel, boolean cork) {
    if (!channel.isOpen()) {
      return false;
    }
    try {
      return channel.config().setOption(EpollChannelOption.TCP_CORK, cork);
    } catch (ChannelException e) {
      return false; // the socket closed under us: nothing to push
    }
  }
}
