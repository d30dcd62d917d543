package dev.fibservice;

import dev.fibservice.api.Version;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.Admission;
import dev.fibservice.compute.Results;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.http.HttpCounters;
import dev.fibservice.http.HttpNode;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.ops.Drain;
import dev.fibservice.ops.Metrics;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * What one node shares, built once at start: its settings and facts, the services its verticles are handed
 * (metrics, live counters, drain, readiness, admission, database, cluster view, result cache) and the node-wide
 * connection counters of its servers. Each verticle gets the parts it needs through its constructor.
 *
 * @param cluster this member's view of the cluster, or null when the node runs alone
 * @param results the result cache and the computations identical requests share, of the fronts and the gateways
 */
public record Node(Settings settings, String name, String version, String transport, Metrics metrics, NodeStats stats,
                   Drain drain, Readiness readiness, Admission admission, Database database, ClusterView cluster,
                   HttpCounters http, ConnectionLimit tcpConnections, ConnectionLimit bridgeConnections,
                   ConnectionLimit opsConnections, Results results) {

  /** A node's shared parts, with fresh counters sized by the settings. */
  static Node create(Vertx vertx, Settings settings, String transport, Metrics metrics, Admission admission,
                     Database database, ClusterView cluster) {
    Drain drain = new Drain();
    return new Node(settings, settings.getString(Settings.NODE_NAME), currentVersion(), transport, metrics,
      new NodeStats(), drain, Readiness.create(vertx, settings, drain, database, cluster), admission, database, cluster,
      new HttpCounters(settings.getInt(Settings.HTTP_MAX_CONNECTIONS)),
      new ConnectionLimit(settings.getInt(Settings.TCP_MAX_CONNECTIONS)),
      new ConnectionLimit(settings.getInt(Settings.BRIDGE_MAX_CONNECTIONS)),
      // the ops port's own count, at HTTP's cap: probes get in while HTTP is full
      new ConnectionLimit(settings.getInt(Settings.HTTP_MAX_CONNECTIONS)),
      results(settings, metrics));
  }

  private static Results results(Settings settings, Metrics metrics) {
    Results results = Results.from(settings);
    results.register(metrics.registry());
    return results;
  }

  /**
   * What the HTTP front end uses of this node.
   *
   * @param eventBus the SockJS event-bus bridge's routes for one HTTP instance, or null when it is off
   */
  HttpNode forHttp(Function<Vertx, Router> eventBus) {
    return new HttpNode(settings, name, this::info, this::live, metrics, stats, drain, readiness.checks(), admission,
      database, cluster, http, eventBus, results);
  }

  /**
   * This node's live counters, as {@code GET /stats} and the {@code fib.stats} pushes have them: {@code node}, the
   * counters of {@link NodeStats#toJson()}, {@code inFlight} per lane and, in a cluster, {@code cluster} with the
   * members as this member sees them and what each worker computed for this node's front ends.
   */
  public JsonObject live() {
    JsonObject live = new JsonObject().put("node", name).mergeIn(stats.toJson())
      .put("inFlight", new JsonObject()
        .put("light", admission.inFlight(true))
        .put("heavy", admission.inFlight(false))
        .put("maxPerLane", admission.max()));
    if (cluster != null) {
      live.put("cluster", new JsonObject().put("members", cluster.toJson().getJsonArray("members"))
        .put("workers", stats.computedForJson()));
    }
    return live;
  }

  /** This build's release (the pom's version): what /info, --version and the member attribute fib.version say. */
  public static String currentVersion() {
    return Version.current();
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
    if (settings.getBoolean(Settings.SOCKJS_ENABLED)) {
      info.put("sockjs", settings.getString(Settings.SOCKJS_PATH));
    }
    return info;
  }
}
