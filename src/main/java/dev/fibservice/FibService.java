package dev.fibservice;

import dev.fibservice.api.Addresses;
import dev.fibservice.bridge.SockJsBridge;
import dev.fibservice.bridge.StatsFeed;
import dev.fibservice.compute.Admission;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.cluster.Clustering;
import dev.fibservice.cluster.Role;
import dev.fibservice.compute.Computation;
import dev.fibservice.compute.Results;
import dev.fibservice.compute.Warmup;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.net.LeanTransport;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A running fib-service node: its Vert.x instance, its ports, and the ordered way to stop it. */
public final class FibService {

  private static final Logger log = LoggerFactory.getLogger(FibService.class);
  /** How long a leaving member waits at most for the fronts to say they have seen it leave. */
  static final long LEAVE_ACK_MS = 2_000;

  private final Vertx vertx;
  private final Node node;
  private final MainVerticle main;
  private final Clustering.Joined joined;

  private FibService(Clustering.Joined joined, Node node, MainVerticle main) {
    this.vertx = joined.vertx();
    this.node = node;
    this.main = main;
    this.joined = joined;
  }

  /** Builds the Vert.x instance the settings describe and deploys the node on it. */
  public static Future<FibService> start(Settings settings) {
    try {
      Results.checkFits(settings);
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    Transport transport = LeanTransport.of(transport(settings.getString(Settings.TRANSPORT)));
    boolean tracingOn = !"off".equals(settings.getString(Settings.TRACING_EXPORTER));
    Metrics metrics = Metrics.create(settings.getBoolean(Settings.METRICS_ENABLED), tracingOn);
    VertxOptions options = metrics.apply(new VertxOptions().setEventLoopPoolSize(settings.getInt(Settings.EVENT_LOOPS)));
    String nodeName = settings.getString(Settings.NODE_NAME);
    for (String line : settings.describe()) {
      log.info("config {}", line);
    }
    settings.deprecations().forEach(log::warn);
    Tracing tracing = Tracing.create(settings, nodeName, Node.currentVersion(), metrics);
    if (tracing.enabled()) {
      log.info("tracing: {}", tracing.describe());
    }
    settings.ignored().forEach(log::warn);
    if (role(settings).computes() && settings.getBoolean(Settings.FIB_WARMUP)) {
      Warmup.start(); // first thing: it runs beside the cluster join and the database's start
    }
    Future<Clustering.Joined> built;
    try {
      if (settings.getBoolean(Settings.CLUSTER_ENABLED)) {
        built = Clustering.start(settings, nodeName, options, transport, metrics, tracing);
      } else {
        VertxBuilder builder = Vertx.builder().with(options).withTransport(transport);
        if (metrics.enabled()) {
          builder.withMetrics(metrics.factory());
        }
        if (tracing.enabled()) {
          builder.withTracer(tracing.vertxTracer());
        }
        built = Future.succeededFuture(Clustering.Joined.alone(builder.build()));
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return built.compose(joined -> {
      Vertx vertx = joined.vertx();
      Computation.registerCodecs(vertx.eventBus());
      Admission admission = new Admission(settings.getInt(Settings.FIB_MAX_IN_FLIGHT));
      admission.register(metrics);
      return Database.start(vertx, settings, settings.getBoolean(Settings.CLUSTER_ENABLED)).compose(database -> {
        database.bindMetrics(metrics.registry());
        Node node = Node.create(vertx, settings, transport.name(), metrics, admission, database, joined.view());
        MainVerticle main = new MainVerticle(node);
        return vertx.deployVerticle(main)
          .map(id -> new FibService(joined, node, main))
          // the failure reaches the caller first: once Vert.x is closed its contexts run no more callbacks
          .onFailure(failure -> new Thread(() -> stop(vertx, database), "fib-stop").start());
      });
    });
  }

  /** What this node runs: its cluster role, or everything when it runs alone. */
  static Role role(Settings settings) {
    return settings.getBoolean(Settings.CLUSTER_ENABLED) ? Role.of(settings) : Role.ALL;
  }

  /**
   * The transport asked for, or NIO with a warning when it cannot load here (a missing native library, a kernel
   * without io_uring): an unavailable choice never stops the service.
   */
  static Transport transport(String choice) {
    Transport wanted = switch (choice) {
      case "epoll" -> Transport.EPOLL;
      case "io_uring" -> Transport.IO_URING;
      case "nio" -> Transport.NIO;
      default -> Transport.nativeTransport();
    };
    if (wanted == null) {
      if (!"auto".equals(choice)) {
        log.warn("transport {} is not available on this platform; using nio", choice);
      }
      return Transport.NIO;
    }
    if (!wanted.available()) {
      log.warn("transport {} is not available ({}); using nio", wanted.name(), wanted.unavailabilityCause());
      return Transport.NIO;
    }
    return wanted;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** What this node shares: its settings, services and counters. */
  public Node node() {
    return node;
  }

  public int httpPort() {
    return main.httpPort();
  }

  public int tcpPort() {
    return main.tcpPort();
  }

  public int bridgePort() {
    return main.bridgePort();
  }

  /** The port of the operations endpoints, or -1 when ops.enabled is off. */
  public int opsPort() {
    return main.opsPort();
  }

  /** The bridges' fib.stats pushes, or null when neither bridge runs on this node. */
  public StatsFeed statsFeed() {
    return main.statsFeed();
  }

  /** The SockJS event-bus bridge, or null when it does not run on this node. */
  public SockJsBridge sockJs() {
    return main.sockJs();
  }

  /** The engine warm-up this node started, or null when fib.warmup is off or the node does not compute. */
  public Warmup warmup() {
    return main.warmup();
  }

  /** The big-response warm-up this node started (its exchanges), or null when fib.warmup is off or it has no HTTP. */
  public Future<Integer> responseWarmup() {
    return main.responseWarmup();
  }

  /**
   * The ports this node listens on, as {@code --ports-file} writes them: {@code http}, {@code tcp},
   * {@code bridge} and {@code ops} where it runs them, and in a cluster {@code clusterBus} (the event bus) and {@code hazelcast};
   * {@code node} is its name.
   */
  public JsonObject ports() {
    JsonObject ports = new JsonObject().put("node", node.name());
    putPort(ports, "http", httpPort());
    putPort(ports, "tcp", tcpPort());
    putPort(ports, "bridge", bridgePort());
    putPort(ports, "ops", opsPort());
    putPort(ports, "clusterBus", joined.busPort());
    putPort(ports, "hazelcast", joined.hazelcastPort());
    return ports;
  }

  private static void putPort(JsonObject ports, String name, int port) {
    if (port > 0) {
      ports.put(name, port);
    }
  }

  /**
   * Graceful stop, in this order (docs/operations.md, Drain). Readiness goes false first. The job runner gives its jobs
   * back at once. A computing cluster member tells the fronts it leaves and waits until they have seen it (bounded).
   * The front ends stop accepting and answer what is in flight (keep-alive connections close between requests). The
   * gateways stop taking computations and finish theirs; what still runs at the end of shutdown.graceMs is answered
   * 503, which the fronts, knowing the member leaves, send to another member (handed back). Then Vert.x closes, the
   * member leaves Hazelcast (gracefully) and the embedded database stops. Blocking: call it from a thread of your own,
   * never from a Vert.x thread.
   */
  public void stop() {
    long began = System.nanoTime();
    int grace = node.settings().getInt(Settings.SHUTDOWN_GRACE_MS);
    log.info("stopping: draining in-flight requests (grace {} ms)", grace);
    node.drain().start();
    try {
      Future<Void> jobs = main.stopJobs();
      announceLeaving()
        .transform(ar -> {
          // the grace period starts once the fronts know (a 503 at its end is then a hand-back to them): past it, what
          // still runs is answered 503, not cut off, before the servers close
          vertx.setTimer(Math.max(1, grace), t -> vertx.eventBus().publish(Addresses.GATEWAY_ABORT, null));
          return main.drainFrontEnds();
        })
        .transform(ar -> main.drainCompute())
        .transform(ar -> jobs)
        .await(LEAVE_ACK_MS + grace + 5_000L, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.warn("draining did not complete: {}", e.toString());
    }
    log.info("stopping: drained in {} ms; closing{}", (System.nanoTime() - began) / 1_000_000,
      node.cluster() != null ? " and leaving the cluster" : "");
    stop(vertx, node.database());
    // off the heap: freed now, not left to the end of the JVM (tests run many nodes in one)
    node.results().cache().clear();
    log.info("stopped");
  }

  private static void stop(Vertx vertx, Database database) {
    try {
      vertx.close().await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("Vert.x did not close cleanly: {}", e.toString());
    }
    database.stopEmbedded();
  }

  /**
   * A computing cluster member tells the fronts it is leaving, so they stop sending to it: published (what fronts of
   * 0.1.0 hear) and asked of each front on its own address, whose reply says it has seen it. Waits for those replies, at
   * most {@link #LEAVE_ACK_MS}; for fronts without that address, a moment for the publish to arrive.
   */
  private Future<Void> announceLeaving() {
    ClusterView cluster = node.cluster();
    if (cluster == null || !cluster.role().computes()) {
      return Future.succeededFuture();
    }
    long began = System.nanoTime();
    JsonObject leaving = new JsonObject().put("member", cluster.selfId());
    vertx.eventBus().publish(Addresses.MEMBER_LEAVING, leaving);
    List<String> fronts = cluster.fronts();
    DeliveryOptions bounded = new DeliveryOptions().setSendTimeout(LEAVE_ACK_MS);
    List<Future<String>> told = new ArrayList<>();
    for (String front : fronts) {
      told.add(vertx.eventBus().request(Addresses.leavingOn(front), leaving, bounded).map("seen")
        .otherwise(e -> e instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS ? "earlier"
          : "silent"));
    }
    return Future.join(told).transform(ar -> {
      long seen = told.stream().filter(f -> "seen".equals(f.result())).count();
      long earlier = told.stream().filter(f -> "earlier".equals(f.result())).count();
      log.info("leaving the cluster: {} of {} fronts have seen it in {} ms{}{}; in-flight computations finish next", seen,
        fronts.size(), (System.nanoTime() - began) / 1_000_000,
        earlier > 0 ? ", " + earlier + " of an earlier release heard the publish" : "",
        seen + earlier < fronts.size() ? ", " + (fronts.size() - seen - earlier) + " did not answer within "
          + LEAVE_ACK_MS + " ms (they see it leave the cluster)" : "");
      // a promise without a context: a future bound to an event loop could not complete once close() stops it
      Promise<Void> settled = Promise.promise();
      vertx.setTimer(earlier > 0 ? 250 : 1, t -> settled.complete());
      return settled.future();
    });
  }
}
