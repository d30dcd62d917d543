package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import dev.fibservice.api.Addresses;
import dev.fibservice.api.Version;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
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

  /** Event-bus TCP connect timeout: members are on one network; Vert.x's default is 60 s. */
  static final int BUS_CONNECT_TIMEOUT_MS = 5_000;
  /** Event-bus connection pings (Vert.x's own, per connection): a connection unanswered for 2 + 5 s is closed. */
  static final long BUS_PING_INTERVAL_MS = 2_000;
  static final long BUS_PING_REPLY_INTERVAL_MS = 5_000;
  /** How long after a merge this member checks its registrations (Vert.x republishes them meanwhile). */
  static final long MERGE_CHECK_DELAY_MS = 5_000;

  private Clustering() {
  }

  /**
   * A Vert.x and, when clustered, this member's view of its cluster and its two cluster ports (the event bus's,
   * Hazelcast's); alone, the view is null and the ports -1.
   */
  public record Joined(Vertx vertx, ClusterView view, int busPort, int hazelcastPort) {
    public static Joined alone(Vertx vertx) {
      return new Joined(vertx, null, -1, -1);
    }
  }

  /** Joins the cluster and returns the clustered Vert.x, with its {@link ClusterView} installed. */
  public static Future<Joined> start(Settings settings, String nodeName, VertxOptions options, Transport transport,
                                    Metrics metrics, Tracing tracing) {
    Role role = Role.of(settings);
    Config hazelcast = hazelcastConfig(settings);
    hazelcast.getMemberAttributeConfig()
      .setAttribute(ClusterView.ROLE_ATTRIBUTE, role.wireName())
      .setAttribute(ClusterView.NODE_ATTRIBUTE, nodeName)
      .setAttribute(ClusterView.VERSION_ATTRIBUTE, Version.current());
    ClusterTls tls = eventBus(settings, options.getEventBusOptions(), hazelcast);
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast);
    long start = System.nanoTime();
    logJoining(hazelcast, role, tls);
    VertxBuilder builder = Vertx.builder().with(options).withTransport(transport).withClusterManager(manager);
    if (metrics.enabled()) {
      builder.withMetrics(metrics.factory());
    }
    if (tracing.enabled()) {
      builder.withTracer(tracing.vertxTracer());
    }
    return builder.buildClustered()
      .compose(vertx -> joined(vertx, manager, role, settings, metrics, start));
  }

  /**
   * The event bus: its port, its address (where Hazelcast binds), TLS, and how soon it gives up on a member that
   * does not answer. Returns the TLS set-up, or null for clear text.
   */
  static ClusterTls eventBus(Settings settings, EventBusOptions bus, Config hazelcast) {
    bus.setPort(settings.getInt(Settings.CLUSTER_PORT));
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
    // A connection to a member behind a dropped link would otherwise wait 60 s to connect and 20 + 20 s for its
    // pong: messages queue on it meanwhile, and a healed member is reached only when it is closed.
    bus.setConnectTimeout(BUS_CONNECT_TIMEOUT_MS)
      .setClusterPingInterval(BUS_PING_INTERVAL_MS)
      .setClusterPingReplyInterval(BUS_PING_REPLY_INTERVAL_MS);
    return tls;
  }

  private static void logJoining(Config hazelcast, Role role, ClusterTls tls) {
    log.info("cluster {}: joining as role {} (members {}, Hazelcast port {})", hazelcast.getClusterName(),
      role.wireName(), hazelcast.getNetworkConfig().getJoin().getTcpIpConfig().getMembers(),
      hazelcast.getNetworkConfig().getPort());
    if (tls != null) {
      log.info("cluster {}: event bus with {}", hazelcast.getClusterName(), tls.describe());
    } else {
      log.warn("cluster {}: event-bus TLS is off (cluster.tls.*): any process that reaches this member's cluster ports"
        + " can join, read and answer requests; use it on loopback only", hazelcast.getClusterName());
    }
  }

  /** Installs the view, its metrics and this member's own consumers; closes Vert.x if that fails. */
  private static Future<Joined> joined(Vertx vertx, HazelcastClusterManager manager, Role role, Settings settings,
                                      Metrics metrics, long start) {
    HazelcastInstance instance = manager.getHazelcastInstance();
    ClusterView view = new ClusterView(instance, manager.getNodeId(), role, ClusterView.clientOptions(settings));
    view.install(vertx);
    view.bindMetrics(metrics.registry());
    var self = instance.getCluster().getLocalMember().getAddress();
    NodeInfo busAddress = manager.getNodeInfo();
    log.info("cluster {}: joined in {} ms as member {} (Hazelcast {}:{}, event bus {}:{}), role {}; members: {}",
      view.clusterName(), (System.nanoTime() - start) / 1_000_000, view.selfId(), self.getHost(), self.getPort(),
      busAddress.host(), busAddress.port(), role.wireName(), view.describeAll());
    watchMerges(vertx, instance, manager, view);
    return Future.all(leavingConsumer(vertx, view), leavingAckConsumer(vertx, view, role), pingConsumer(vertx, view))
      .map(new Joined(vertx, view, busAddress.port(), self.getPort()))
      .onFailure(e -> {
        view.close();
        vertx.close();
      });
  }

  /** A member that announces its graceful leave gets no new requests from this member's fronts. */
  private static Future<Void> leavingConsumer(Vertx vertx, ClusterView view) {
    return vertx.eventBus().<JsonObject>consumer(Addresses.MEMBER_LEAVING, m -> {
        if (m.body() != null && m.body().getValue("member") instanceof String id) {
          view.leaving(id);
        }
      })
      .completion();
  }

  /**
   * On a front: a leaving member asks it on its own address, and is told once this front has seen it (sends it nothing
   * new), so that the member can wait for exactly that before it goes.
   */
  private static Future<Void> leavingAckConsumer(Vertx vertx, ClusterView view, Role role) {
    if (!role.fronts()) {
      return Future.succeededFuture();
    }
    JsonObject seen = new JsonObject().put("member", view.selfId());
    return vertx.eventBus().<Object>consumer(Addresses.leavingOn(view.selfId()), m -> {
        if (m.body() instanceof JsonObject body && body.getValue("member") instanceof String id) {
          view.leaving(id).onComplete(ar -> m.reply(seen));
        } else {
          m.fail(400, "body must be a JSON object like {\"member\":\"<member id>\"}");
        }
      })
      .completion();
  }

  /** The fronts' proof that this member is reachable over the (TLS) event bus, and alive. */
  private static Future<Void> pingConsumer(Vertx vertx, ClusterView view) {
    JsonObject pong = new JsonObject().put("member", view.selfId());
    return vertx.eventBus().consumer(Addresses.pingOn(view.selfId()), m -> m.reply(pong)).completion();
  }

  /**
   * After a split cluster merged again (a healed partition, a member paused past hazelcast.max.no.heartbeat.seconds),
   * this member's event-bus registrations must be in the merged subscription map, or nobody can reach it: Vert.x
   * republishes them on MERGED, and this checks, a few seconds later, that this member's ping address is there,
   * saying so either way.
   */
  private static void watchMerges(Vertx vertx, HazelcastInstance instance, HazelcastClusterManager manager,
                                  ClusterView view) {
    instance.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        log.info("cluster {}: merged again after a split; this member's event-bus registrations are republished",
          view.clusterName());
        vertx.setTimer(MERGE_CHECK_DELAY_MS, t -> checkRegistrations(manager, view));
      }
    });
  }

  private static void checkRegistrations(HazelcastClusterManager manager, ClusterView view) {
    String address = Addresses.pingOn(view.selfId());
    Promise<List<RegistrationInfo>> found = Promise.promise();
    manager.getRegistrations(address, found);
    found.future().onComplete(ar -> {
      if (ar.succeeded() && ar.result().stream().anyMatch(r -> view.selfId().equals(r.nodeId()))) {
        log.info("cluster {}: after the merge, this member's registrations are in place", view.clusterName());
      } else {
        log.warn("cluster {}: after the merge, this member's ping address is missing from the subscription map ({}):"
          + " the fronts cannot reach it; restart this member", view.clusterName(),
          ar.succeeded() ? "no registration of this member" : ar.cause().toString());
      }
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
      // with auto or 0 (a free port here) the other hosts' port is the file's
      boolean filePort = settings.isAuto(Settings.CLUSTER_HAZELCAST_PORT)
        || settings.getInt(Settings.CLUSTER_HAZELCAST_PORT) == 0;
      int memberPort = filePort ? network.getPort() : settings.getInt(Settings.CLUSTER_HAZELCAST_PORT);
      network.getJoin().getTcpIpConfig().setEnabled(true).setMembers(withPorts(list, memberPort));
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

  /**
   * The join list with the member port given to every plain IPv4 address of another host: such a host runs one
   * member, on the Hazelcast port. Without a port, Hazelcast also tries the next two (hazelcast.tcp.join.port.try.count),
   * and after a partition its split-brain search waits 5 s for each address that does not answer before it finds
   * the other side: 20 s more for every heal in a three-host cluster. Loopback addresses (several members on one
   * host), host names and IP:port entries are left as they are.
   */
  static List<String> withPorts(List<String> members, int port) {
    return members.stream()
      .map(m -> m.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !m.startsWith("127.") ? m + ":" + port : m)
      .toList();
  }

  /** What conf/cluster.xml says, for a jar started outside the project directory. */
  static Config builtIn() {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName("fib-service");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
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
