package dev.fibservice;

import dev.fibservice.cluster.ClusterView;
import dev.fibservice.cluster.Clustering;
import dev.fibservice.compute.ComputeJob;
import dev.fibservice.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running fib-service node: its Vert.x instance, its ports, and the ordered way to stop it. */
public final class FibService {

  private static final Logger log = LoggerFactory.getLogger(FibService.class);

  private final Vertx vertx;
  private final NodeInfo node;
  private final MainVerticle main;

  private FibService(Vertx vertx, NodeInfo node, MainVerticle main) {
    this.vertx = vertx;
    this.node = node;
    this.main = main;
  }

  /** Builds the Vert.x instance the settings describe and deploys the node on it. */
  public static Future<FibService> start(Settings settings) {
    Transport transport = transport(settings.getString(Settings.TRANSPORT));
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(settings.getInt(Settings.EVENT_LOOPS));
    NodeInfo node = new NodeInfo(settings, settings.getString(Settings.NODE_NAME), transport.name(), NodeInfo.currentVersion());
    for (String line : settings.describe()) {
      log.info("config {}", line);
    }
    Future<Vertx> built;
    try {
      built = settings.getBoolean(Settings.CLUSTER_ENABLED)
        ? Clustering.start(settings, node.name(), options, transport)
        : Future.succeededFuture(Vertx.builder().with(options).withTransport(transport).build());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return built.compose(vertx -> {
      ComputeJob.registerCodecs(vertx.eventBus());
      MainVerticle main = new MainVerticle(node);
      return vertx.deployVerticle(main)
        .map(id -> new FibService(vertx, node, main))
        // the failure reaches the caller first: once Vert.x is closed its contexts run no more callbacks
        .onFailure(failure -> vertx.close());
    });
  }

  /**
   * The transport asked for, or NIO with a warning when it cannot load here (another OS, a missing
   * native library): an unavailable choice never stops the service.
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

  public NodeInfo node() {
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

  /**
   * Graceful stop: the servers stop accepting and in-flight requests finish (up to shutdown.graceMs),
   * then the workers and Vert.x itself close.
   */
  public Future<Void> stop() {
    log.info("stopping: draining in-flight requests (grace {} ms)", node.settings().getInt(Settings.SHUTDOWN_GRACE_MS));
    return announceLeaving()
      .transform(ar -> main.drainFrontEnds())
      .transform(ar -> main.drainCompute())
      .transform(ar -> vertx.close())
      .onComplete(ar -> log.info("stopped"));
  }

  /**
   * A computing cluster member tells the fronts it is leaving, so they stop sending to it, and gives the
   * messages already on their way a moment to arrive before its gateways unregister.
   */
  private Future<Void> announceLeaving() {
    ClusterView cluster = ClusterView.of(vertx);
    if (cluster == null || !cluster.role().computes()) {
      return Future.succeededFuture();
    }
    log.info("leaving the cluster: fronts stop sending here, then in-flight computations finish");
    vertx.eventBus().publish(Addresses.MEMBER_LEAVING, new JsonObject().put("member", cluster.selfId()));
    // a promise without a context: a future bound to an event loop could not complete once close() stops it
    Promise<Void> settled = Promise.promise();
    vertx.setTimer(250, t -> settled.complete());
    return settled.future();
  }
}
