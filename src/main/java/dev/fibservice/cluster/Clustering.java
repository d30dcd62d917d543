package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.fibservice.Addresses;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.transport.Transport;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Builds a clustered Vert.x from the settings: the Hazelcast configuration (conf/cluster.xml, then the
 * cluster.* keys over it), this member's role as a Hazelcast member attribute, and the event bus address.
 */
public final class Clustering {

  private static final Logger log = LoggerFactory.getLogger(Clustering.class);

  private Clustering() {
  }

  /** Joins the cluster and returns the clustered Vert.x, with its {@link ClusterView} installed. */
  public static Future<Vertx> start(Settings settings, String nodeName, VertxOptions options, Transport transport,
                                    Metrics metrics) {
    Role role = Role.of(settings);
    Config hazelcast = hazelcastConfig(settings);
    hazelcast.getMemberAttributeConfig()
      .setAttribute(ClusterView.ROLE_ATTRIBUTE, role.wireName())
      .setAttribute(ClusterView.NODE_ATTRIBUTE, nodeName);
    EventBusOptions bus = options.getEventBusOptions().setPort(settings.getInt(Settings.CLUSTER_PORT));
    String host = busHost(settings, hazelcast);
    if (host != null) {
      bus.setHost(host);
    }
    ClusterTls tls = ClusterTls.from(settings);
    if (tls != null) {
      tls.apply(bus);
    }
    String publicHost = settings.getString(Settings.CLUSTER_PUBLIC_HOST);
    if (!"auto".equals(publicHost)) {
      bus.setClusterPublicHost(publicHost);
    }
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast);
    long start = System.nanoTime();
    log.info("cluster {}: joining as role {} (members {}, Hazelcast port {})", hazelcast.getClusterName(),
      role.wireName(), hazelcast.getNetworkConfig().getJoin().getTcpIpConfig().getMembers(),
      hazelcast.getNetworkConfig().getPort());
    if (tls != null) {
      log.info("cluster {}: event bus with {}", hazelcast.getClusterName(), tls.describe());
    } else {
      log.warn("cluster {}: event-bus TLS is off (cluster.tls.*): any process that reaches this member's cluster ports"
        + " can join, read and answer requests; use it on loopback only", hazelcast.getClusterName());
    }
    VertxBuilder builder = Vertx.builder().with(options).withTransport(transport).withClusterManager(manager);
    if (metrics.enabled()) {
      builder.withMetrics(metrics.factory());
    }
    return builder.buildClustered()
      .compose(vertx -> {
        ClusterView view = new ClusterView(manager.getHazelcastInstance(), manager.getNodeId(), role);
        view.install(vertx);
        var self = manager.getHazelcastInstance().getCluster().getLocalMember().getAddress();
        NodeInfo busAddress = manager.getNodeInfo();
        log.info("cluster {}: joined in {} ms as member {} (Hazelcast {}:{}, event bus {}:{}), role {}; members: {}",
          view.clusterName(), (System.nanoTime() - start) / 1_000_000, view.selfId(), self.getHost(), self.getPort(),
          busAddress.host(), busAddress.port(), role.wireName(), view.describeAll());
        // a member that announces its graceful leave gets no new requests from this member's fronts
        Future<Void> leaving = vertx.eventBus().<JsonObject>consumer(Addresses.MEMBER_LEAVING, m -> {
            if (m.body() != null && m.body().getValue("member") instanceof String id) {
              view.avoid(id, 60_000);
            }
          })
          .completion();
        // the fronts' proof that this member is reachable over the (TLS) event bus
        JsonObject pong = new JsonObject().put("member", view.selfId());
        Future<Void> ping = vertx.eventBus().consumer(Addresses.pingOn(view.selfId()), m -> m.reply(pong)).completion();
        return Future.all(leaving, ping)
          .map(vertx)
          .onFailure(e -> vertx.close());
      });
  }

  /**
   * The address the event bus binds to: cluster.host, or when that is auto the one interface the Hazelcast
   * configuration names (127.0.0.1 in conf/cluster.xml), so that both cluster sockets share one address.
   * Null (Vert.x's choice: Hazelcast's own address) when the configuration names none or a pattern.
   */
  static String busHost(Settings settings, Config hazelcast) {
    String host = settings.getString(Settings.CLUSTER_HOST);
    if (!"auto".equals(host)) {
      return host;
    }
    var interfaces = hazelcast.getNetworkConfig().getInterfaces();
    if (interfaces.isEnabled() && interfaces.getInterfaces().size() == 1) {
      String only = interfaces.getInterfaces().iterator().next();
      if (!only.contains("*") && !only.contains("-")) {
        return only;
      }
    }
    return null;
  }

  /** conf/cluster.xml (or the built-in equivalent when the default file is absent), then the cluster.* keys. */
  static Config hazelcastConfig(Settings settings) {
    String file = settings.getString(Settings.CLUSTER_CONFIG);
    Path path = Path.of(file);
    Config config;
    if (Files.isRegularFile(path)) {
      try {
        config = new XmlConfigBuilder(path.toString()).build();
      } catch (IOException | RuntimeException e) {
        throw new ConfigException("cluster.config: " + file + " is not a usable Hazelcast configuration: " + e.getMessage());
      }
    } else if (file.equals(Settings.CLUSTER_CONFIG.defaultValue())) {
      config = builtIn();
    } else {
      throw new ConfigException("cluster.config: " + file + " does not exist");
    }
    NetworkConfig network = config.getNetworkConfig();
    // Hazelcast listens on every interface unless told otherwise, whatever the configured interfaces say
    config.setProperty("hazelcast.socket.bind.any", "false");
    String name = settings.getString(Settings.CLUSTER_NAME);
    if (!"auto".equals(name)) {
      config.setClusterName(name);
    }
    String members = settings.getString(Settings.CLUSTER_MEMBERS);
    if (!"auto".equals(members)) {
      List<String> list = Arrays.stream(members.split(",")).map(String::strip).filter(m -> !m.isEmpty()).toList();
      for (String m : list) {
        if (m.matches(".*:\\d+-\\d+")) {
          // Hazelcast 5.3 dies with NumberFormatException on ranges when interfaces are enabled
          throw new ConfigException("cluster.members: '" + m + "' is a port range; list plain IPs or IP:port");
        }
      }
      network.getJoin().getTcpIpConfig().setEnabled(true).setMembers(list);
    }
    String host = settings.getString(Settings.CLUSTER_HOST);
    if (!"auto".equals(host)) {
      network.getInterfaces().setEnabled(true).clear().addInterface(host);
    }
    String publicHost = settings.getString(Settings.CLUSTER_PUBLIC_HOST);
    if (!"auto".equals(publicHost)) {
      network.setPublicAddress(publicHost);
    }
    if (!settings.isAuto(Settings.CLUSTER_HAZELCAST_PORT)) {
      // 0: Hazelcast binds port 0 and takes the port it got as its address
      network.setPort(settings.getInt(Settings.CLUSTER_HAZELCAST_PORT));
    }
    return config;
  }

  /** What conf/cluster.xml says, for a jar started outside the project directory. */
  static Config builtIn() {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName("fib-service");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(5701).setPortAutoIncrement(true).setPortCount(100);
    network.getInterfaces().setEnabled(true).clear().addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1"));
    return config;
  }
}
