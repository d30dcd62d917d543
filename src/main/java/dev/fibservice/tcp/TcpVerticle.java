package dev.fibservice.tcp;

import dev.fibservice.NodeInfo;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Drain;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The plain TCP line protocol for netcat-style clients: send {@code 30\n}, receive F(30). */
public final class TcpVerticle extends VerticleBase {

  /** Open connections on this node, shared by every TCP instance. */
  static final class Count implements Shareable {
    final AtomicInteger open = new AtomicInteger();
  }

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
    Metrics metrics = node.metrics();
    int maxConnections = settings.getInt(Settings.TCP_MAX_CONNECTIONS);
    AtomicInteger open = ((Count) vertx.sharedData().getLocalMap("fib.tcp.connections")
      .computeIfAbsent("count", k -> new Count())).open;
    return vertx.createNetServer(options)
      .connectHandler(socket -> {
        if (open.incrementAndGet() > maxConnections) {
          open.decrementAndGet();
          socket.end(Buffer.buffer("[Error] busy: too many connections (" + maxConnections
            + ", tcp.maxConnections); retry shortly\n"));
          return;
        }
        metrics.tcpConnection(1);
        new LineSession(vertx, socket, config, fib, metrics, () -> {
          open.decrementAndGet();
          metrics.tcpConnection(-1);
        }).start();
      })
      .listen()
      .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    // stop accepting; what is in flight finishes
    return server.shutdown(Drain.serverShutdownMs(node.settings()), TimeUnit.MILLISECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }
}
