package dev.fibservice.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The epoll transport without the per-connection socket options that only restate a new socket's defaults. */
class LeanTransportTest {

  @Test
  void otherTransportsAreLeftAsTheyAre() {
    assertSame(Transport.NIO, LeanTransport.of(Transport.NIO));
  }

  @Test
  void optionsAtTheirDefaultsAreNotSetPerConnectionOthersAre() {
    assumeTrue(Transport.EPOLL != null && Transport.EPOLL.available(), "epoll is not available here");
    Transport lean = LeanTransport.of(Transport.EPOLL);
    assertEquals("epoll", lean.name());

    ServerBootstrap plain = new ServerBootstrap();
    lean.implementation().configure(new NetServerOptions(), false, plain);
    Map<ChannelOption<?>, Object> child = plain.config().childOptions();
    for (ChannelOption<?> option : new ChannelOption<?>[] {EpollChannelOption.TCP_USER_TIMEOUT,
      EpollChannelOption.TCP_QUICKACK, EpollChannelOption.TCP_CORK, ChannelOption.SO_KEEPALIVE, ChannelOption.TCP_NODELAY}) {
      assertFalse(child.containsKey(option), option + " is set per connection: " + child);
    }

    ServerBootstrap tuned = new ServerBootstrap();
    lean.implementation().configure(new NetServerOptions().setTcpKeepAlive(true).setTcpNoDelay(false)
      .setTcpUserTimeout(5000), false, tuned);
    child = tuned.config().childOptions();
    assertEquals(true, child.get(ChannelOption.SO_KEEPALIVE));
    assertEquals(false, child.get(ChannelOption.TCP_NODELAY));
    assertEquals(5000, child.get(EpollChannelOption.TCP_USER_TIMEOUT));
  }

  @Test
  void acceptedSocketsStillHaveTheOptionsAsked() throws Exception {
    assumeTrue(Transport.EPOLL != null && Transport.EPOLL.available(), "epoll is not available here");
    Vertx vertx = Vertx.builder().withTransport(LeanTransport.of(Transport.EPOLL)).build();
    try {
      assertTrue(vertx.isNativeTransportEnabled());
      assertEquals(Map.of("nodelay", true, "keepalive", false, "cork", false), accepted(vertx, new NetServerOptions()));
      assertEquals(Map.of("nodelay", false, "keepalive", true, "cork", false),
        accepted(vertx, new NetServerOptions().setTcpNoDelay(false).setTcpKeepAlive(true)));
    } finally {
      vertx.close().await();
    }
  }

  private static Map<String, Boolean> accepted(Vertx vertx, NetServerOptions options) throws Exception {
    CompletableFuture<Map<String, Boolean>> seen = new CompletableFuture<>();
    NetServer server = vertx.createNetServer(options.setHost("127.0.0.1").setPort(0)).connectHandler(socket -> {
      Channel channel = Wire.channel(socket);
      seen.complete(Map.of("nodelay", channel.config().getOption(ChannelOption.TCP_NODELAY),
        "keepalive", channel.config().getOption(ChannelOption.SO_KEEPALIVE),
        "cork", channel.config().getOption(EpollChannelOption.TCP_CORK)));
      socket.close();
    });
    server.listen().await(30, TimeUnit.SECONDS);
    try (Socket client = new Socket("127.0.0.1", server.actualPort())) {
      return seen.get(30, TimeUnit.SECONDS);
    } finally {
      server.close().await(30, TimeUnit.SECONDS);
    }
  }
}
