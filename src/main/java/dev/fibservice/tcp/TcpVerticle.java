package dev.fibservice.tcp;

import dev.fibservice.NodeInfo;
import dev.fibservice.cluster.ComputeClient;
import dev.fibservice.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;

import java.util.concurrent.TimeUnit;

/** The plain TCP line protocol for netcat-style clients: send {@code 30\n}, receive F(30). */
public final class TcpVerticle extends VerticleBase {

  private final NodeInfo node;
  private final int port;
  private NetServer server;

  public TcpVerticle(NodeInfo node, int port) {
    this.node = node;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    LineSession.Config config = LineSession.Config.from(settings);
    ComputeClient fib = ComputeClient.create(vertx, settings);
    NetServerOptions options = new NetServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(port)
      .setIdleTimeout(settings.getInt(Settings.TCP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
    return vertx.createNetServer(options)
      .connectHandler(socket -> new LineSession(vertx, socket, config, fib).start())
      .listen()
      .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    return server.shutdown(node.settings().getInt(Settings.SHUTDOWN_GRACE_MS), TimeUnit.MILLISECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
