package dev.fibservice;

import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.Admission;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.http.HttpCounters;
import dev.fibservice.http.HttpNode;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.ops.Drain;
import dev.fibservice.ops.Metrics;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What one node shares, built once at start: its settings and facts, the services its verticles are handed
 * (metrics, live counters, drain, admission, database, cluster view) and the node-wide connection counters of its
 * servers. Each verticle gets the parts it needs through its constructor.
 *
 * @param cluster this member's view of the cluster, or null when the node runs alone
 */
public record Node(Settings settings, String name, String version, String transport, Metrics metrics, NodeStats stats,
                   Drain drain, Admission admission, Database database, ClusterView cluster, HttpCounters http,
                   ConnectionLimit tcpConnections, ConnectionLimit bridgeConnections, ConnectionLimit opsConnections) {

  /** A node's shared parts, with fresh counters sized by the settings. */
  static Node create(Settings settings, String transport, Metrics metrics, Admission admission, Database database,
                     ClusterView cluster) {
    return new Node(settings, settings.getString(Settings.NODE_NAME), currentVersion(), transport, metrics,
      new NodeStats(), new Drain(), admission, database, cluster,
      new HttpCounters(settings.getInt(Settings.HTTP_MAX_CONNECTIONS)),
      new ConnectionLimit(settings.getInt(Settings.TCP_MAX_CONNECTIONS)),
      new ConnectionLimit(settings.getInt(Settings.BRIDGE_MAX_CONNECTIONS)),
      // the ops port's own count, at HTTP's cap: probes get in while HTTP is full
      new ConnectionLimit(settings.getInt(Settings.HTTP_MAX_CONNECTIONS)));
  }

  /** What the HTTP front end uses of this node. */
  HttpNode forHttp() {
    return new HttpNode(settings, name, this::info, metrics, stats, drain, admission, database, cluster, http);
  }

  public static String currentVersion() {
    String version = Node.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  /** The Vert.x version, from the resource vertx-core ships for that purpose. */
  public static String vertxVersion() {
    try (var in = Node.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
      return in == null ? "unknown" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** {@code GET /info}: what this node is and runs, its database and, in a cluster, the members. */
  public JsonObject info() {
    JsonObject info = new JsonObject()
      .put("node", name)
      .put("version", version)
      .put("vertx", vertxVersion())
      .put("instances", settings.getInt(Settings.INSTANCES))
      .put("eventLoops", settings.getInt(Settings.EVENT_LOOPS))
      .put("workers", new JsonObject()
        .put("heavy", settings.getInt(Settings.FIB_HEAVY_WORKERS))
        .put("light", settings.getInt(Settings.FIB_LIGHT_WORKERS)))
      .put("transport", transport)
      .put("database", database.toJson())
      .put("jvm", Runtime.version().toString())
      .put("cores", Runtime.getRuntime().availableProcessors());
    if (cluster != null) {
      info.put("cluster", cluster.toJson());
    }
    return info;
  }
}
