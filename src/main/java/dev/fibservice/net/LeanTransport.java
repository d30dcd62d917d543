package dev.fibservice.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.transport.Transport;

import java.net.SocketAddress;
import java.util.concurrent.ThreadFactory;

/**
 * The epoll transport, without the socket options Vert.x sets on every accepted connection to the value a new socket
 * has anyway: TCP_USER_TIMEOUT 0, TCP_CORK off, SO_KEEPALIVE off, TCP_NODELAY on (Netty's epoll sockets start with it
 * on), and TCP_QUICKACK off, which is not a no-op but turns the kernel's quick ACKs of a new connection off (nginx
 * leaves it alone too). Each is a system call per connection; an option set to anything else is still applied.
 * Everything else is the epoll transport's own.
 */
public final class LeanTransport implements io.vertx.core.spi.transport.Transport {

  private final io.vertx.core.spi.transport.Transport epoll;

  private LeanTransport(io.vertx.core.spi.transport.Transport epoll) {
    this.epoll = epoll;
  }

  /** {@code transport} itself unless it is epoll; epoll keeps its name, so logs and /info still say epoll. */
  public static Transport of(Transport transport) {
    if (transport != Transport.EPOLL || !transport.available()) {
      return transport;
    }
    LeanTransport lean = new LeanTransport(transport.implementation());
    return new Transport() {
      @Override
      public String name() {
        return transport.name();
      }

      @Override
      public boolean available() {
        return true;
      }

      @Override
      public Throwable unavailabilityCause() {
        return null;
      }

      @Override
      public io.vertx.core.spi.transport.Transport implementation() {
        return lean;
      }
    };
  }

  @Override
  public void configure(NetServerOptions options, boolean domainSocket, ServerBootstrap bootstrap) {
    epoll.configure(options, domainSocket, bootstrap);
    if (domainSocket) {
      return;
    }
    // a null value removes a child option: the accepted socket keeps what it has
    if (options.getTcpUserTimeout() == 0) {
      bootstrap.childOption(EpollChannelOption.TCP_USER_TIMEOUT, null);
    }
    if (!options.isTcpQuickAck()) {
      bootstrap.childOption(EpollChannelOption.TCP_QUICKACK, null);
    }
    if (!options.isTcpCork()) {
      bootstrap.childOption(EpollChannelOption.TCP_CORK, null);
    }
    if (!options.isTcpKeepAlive()) {
      bootstrap.childOption(ChannelOption.SO_KEEPALIVE, null);
    }
    if (options.isTcpNoDelay()) {
      bootstrap.childOption(ChannelOption.TCP_NODELAY, null);
    }
  }

  @Override
  public boolean supportsDomainSockets() {
    return epoll.supportsDomainSockets();
  }

  @Override
  public boolean supportFileRegion() {
    return epoll.supportFileRegion();
  }

  @Override
  public boolean isAvailable() {
    return epoll.isAvailable();
  }

  @Override
  public Throwable unavailabilityCause() {
    return epoll.unavailabilityCause();
  }

  @Override
  public SocketAddress convert(io.vertx.core.net.SocketAddress address) {
    return epoll.convert(address);
  }

  @Override
  public io.vertx.core.net.SocketAddress convert(SocketAddress address) {
    return epoll.convert(address);
  }

  @Override
  public IoHandlerFactory ioHandlerFactory() {
    return epoll.ioHandlerFactory();
  }

  @Override
  public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory, int ioRatio) {
    return epoll.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
  }

  @Override
  public DatagramChannel datagramChannel() {
    return epoll.datagramChannel();
  }

  @Override
  public DatagramChannel datagramChannel(InternetProtocolFamily family) {
    return epoll.datagramChannel(family);
  }

  @Override
  public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
    return epoll.channelFactory(domainSocket);
  }

  @Override
  public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
    return epoll.serverChannelFactory(domainSocket);
  }

  @Override
  public void configure(DatagramChannel channel, DatagramSocketOptions options) {
    epoll.configure(channel, options);
  }

  @Override
  public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket, Bootstrap bootstrap) {
    epoll.configure(options, connectTimeout, domainSocket, bootstrap);
  }
}
