package dev.fibservice.tcp;

import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.config.Settings;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.net.ServerVerticle;
import dev.fibservice.net.TimeoutSweep;
import dev.fibservice.ops.Metrics;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServerOptions;

/** The plain TCP line protocol for netcat-style clients: send {@code 30\n}, receive F(30). */
public final class TcpVerticle extends ServerVerticle {

  private final Settings settings;
  private final Metrics metrics;
  private final ConnectionLimit connections;
  private final ClusterView cluster;
  private final NodeStats stats;
  private final int port;

  /**
   * @param connections the node's TCP connections, shared by every TCP instance
   * @param cluster     this member's view of the cluster, or null when the node runs alone
   * @param stats       the node's live counters (what each worker member computed for this front)
   */
  public TcpVerticle(Settings settings, Metrics metrics, ConnectionLimit connections, ClusterView cluster,
                     NodeStats stats, int port) {
    super(settings);
    this.settings = settings;
    this.metrics = metrics;
    this.connections = connections;
    this.cluster = cluster;
    this.stats = stats;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    LineSession.Config config = LineSession.Config.from(settings);
    ComputeClient fib = ComputeClient.create(vertx, settings, cluster, stats);
    int idleMs = settings.getInt(Settings.TCP_IDLE_SECONDS) * 1000;
    // the idle timeout is the sessions' own, on one sweep: not a handler and a timer task per connection
    TimeoutSweep sweep = new TimeoutSweep(vertx, TimeoutSweep.tickFor(idleMs));
    NetServerOptions options = new NetServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(port);
    return listen(vertx.createNetServer(options)
      .connectHandler(socket -> {
        if (!connections.opened()) {
          connections.closed();
          socket.end(Buffer.buffer("[Error] busy: too many connections (" + connections.max()
            + ", tcp.maxConnections); retry shortly\n"));
          return;
        }
        metrics.tcpConnection(1);
        new LineSession(vertx, socket, sweep, idleMs, config, fib, metrics, () -> {
          connections.closed();
          metrics.tcpConnection(-1);
        }).start();
      }));
  }
}
