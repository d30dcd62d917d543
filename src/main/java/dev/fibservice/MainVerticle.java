package dev.fibservice;

import dev.fibservice.bridge.BridgeVerticle;
import dev.fibservice.cluster.Role;
import dev.fibservice.compute.ComputeGateway;
import dev.fibservice.compute.FibonacciVerticle;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.http.HttpVerticle;
import dev.fibservice.http.OpsVerticle;
import dev.fibservice.jobs.JobRunner;
import dev.fibservice.jobs.JobsApiVerticle;
import dev.fibservice.tcp.TcpVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * Deploys the node: workers and their gateway first (so the front ends never see NO_HANDLERS), then
 * the HTTP and TCP front ends, one instance per event loop on a shared port. In a cluster the role
 * decides: {@code worker} members deploy only the compute side, {@code http} members only the fronts.
 */
public final class MainVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MainVerticle.class);

  /** Keys for "any free port" sockets, unique in this JVM (several nodes may run in one test JVM). */
  private static final AtomicInteger ANY_PORT_KEYS = new AtomicInteger();

  private final NodeInfo node;
  private final List<String> frontEnds = new ArrayList<>();
  private volatile int httpPort = -1;
  private volatile int tcpPort = -1;
  private volatile int bridgePort = -1;
  private volatile int opsPort = -1;
  private String gatewayId;

  public MainVerticle(NodeInfo node) {
    this.node = node;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    int instances = settings.getInt(Settings.INSTANCES);
    Role role = settings.getBoolean(Settings.CLUSTER_ENABLED) ? Role.of(settings) : Role.ALL;
    int heavy = role.computes() ? settings.getInt(Settings.WORKER_INSTANCES) : 0;
    int light = role.computes() ? settings.getInt(Settings.FIB_LIGHT_WORKERS) : 0;
    AtomicInteger httpIndex = new AtomicInteger();
    Database database = node.database();
    int jobWorkers = database.enabled() && role.computes() ? settings.getInt(Settings.JOBS_WORKERS) : 0;
    Future<Void> compute = !role.computes() ? Future.succeededFuture() : workers(Addresses.WORKER_HEAVY, "heavy", heavy)
      .compose(v -> workers(Addresses.WORKER_LIGHT, "light", light))
      .compose(v -> workers(Addresses.WORKER_JOBS, "jobs", jobWorkers))
      .compose(v -> jobWorkers == 0 ? Future.succeededFuture() : vertx.deployVerticle(new JobRunner(node, database)))
      .compose(v -> vertx.deployVerticle(() -> new ComputeGateway(node), new DeploymentOptions().setInstances(instances)))
      .map(id -> {
        gatewayId = id;
        return null;
      });
    if (!role.fronts()) {
      return compute.compose(v -> ops(settings)).onSuccess(v -> log.info("fib-service {} node {} ready: worker member, {} heavy + {} light + {} job"
          + " workers, {} gateway instances, {} event loops, transport {}, database {}", node.version(), node.name(),
        heavy, light, jobWorkers, instances, settings.getInt(Settings.EVENT_LOOPS), node.transport(), database.target()));
    }
    return compute
      // with the database off too: callers then get 503 and why, not NO_HANDLERS
      .compose(v -> vertx.deployVerticle(new JobsApiVerticle(node, database)))
      .compose(v -> shared(settings.getInt(Settings.HTTP_PORT), instances,
        port -> new HttpVerticle(node, port, "http-" + httpIndex.incrementAndGet()), HttpVerticle::actualPort))
      .compose(port -> {
        httpPort = port;
        return shared(settings.getInt(Settings.TCP_PORT), instances, p -> new TcpVerticle(node, p), TcpVerticle::actualPort);
      })
      .compose(port -> {
        tcpPort = port;
        return bridge(settings);
      })
      .compose(v -> ops(settings))
      .onSuccess(v -> {
        log.info("fib-service {} node {} ready: HTTP on {}:{}, TCP on {}:{}, {} HTTP/TCP instances, {} heavy + {} light"
            + " + {} job workers, {} event loops, transport {}, database {}", node.version(), node.name(),
          settings.getString(Settings.HOST), httpPort, settings.getString(Settings.HOST), tcpPort, instances, heavy, light,
          jobWorkers, settings.getInt(Settings.EVENT_LOOPS), node.transport(), database.target());
      });
  }

  /** The TCP event-bus bridge, when enabled: one instance, it only relays. */
  private Future<Void> bridge(Settings settings) {
    if (!settings.getBoolean(Settings.BRIDGE_ENABLED)) {
      return Future.succeededFuture();
    }
    int port = settings.getInt(Settings.BRIDGE_PORT);
    BridgeVerticle bridge = new BridgeVerticle(node, port);
    return vertx.deployVerticle(bridge).map(id -> {
      frontEnds.add(id);
      bridgePort = bridge.actualPort();
      log.info("bridge ready: TCP event-bus bridge on {}:{}, public addresses {}", settings.getString(Settings.BRIDGE_HOST),
        bridgePort, BridgeVerticle.PUBLIC_ADDRESSES);
      return null;
    });
  }

  /**
   * The operations endpoints on a port of their own, when enabled. Not a front end: it keeps answering while the node
   * drains (readiness then says so) and closes with Vert.x.
   */
  private Future<Void> ops(Settings settings) {
    if (!settings.getBoolean(Settings.OPS_ENABLED)) {
      return Future.succeededFuture();
    }
    OpsVerticle ops = new OpsVerticle(node);
    return vertx.deployVerticle(ops).map(id -> {
      opsPort = ops.actualPort();
      log.info("ops ready: /health/live, /health/ready, /metrics and /info on {}:{}", settings.getString(Settings.HOST),
        opsPort);
      return null;
    });
  }

  private Future<Void> workers(String address, String lane, int count) {
    if (count == 0) {
      return Future.succeededFuture();
    }
    AtomicInteger index = new AtomicInteger();
    DeploymentOptions options = new DeploymentOptions()
      .setThreadingModel(ThreadingModel.WORKER)
      .setInstances(count)
      // a pool of their own: heavy maths never takes the threads other blocking work needs
      .setWorkerPoolName("fib-" + lane)
      .setWorkerPoolSize(count);
    // the light lane keeps the normal priority: it is the one small requests wait on
    int nice = "light".equals(lane) ? 0 : node.settings().getInt(Settings.FIB_HEAVY_NICE);
    return vertx.deployVerticle(() -> new FibonacciVerticle(address, node.name() + "/" + lane + "-"
      + index.incrementAndGet(), node.metrics(), nice), options).mapEmpty();
  }

  /**
   * Deploys {@code instances} verticles sharing one listening socket. Vert.x shares a socket between
   * servers of the same port; for "any free port" it does so only when the port is given as a negative
   * key (-k: bind to a free port once, share it among all who say -k), hence the JVM-unique key.
   */
  private <V extends VerticleBase> Future<Integer> shared(int port, int instances, IntFunction<V> factory,
                                                           ToIntFunction<V> actualPort) {
    int listenPort = port == 0 ? -ANY_PORT_KEYS.incrementAndGet() : port;
    List<V> deployed = new CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
        V v = factory.apply(listenPort);
        deployed.add(v);
        return v;
      }, new DeploymentOptions().setInstances(instances))
      .map(id -> {
        frontEnds.add(id);
        return actualPort.applyAsInt(deployed.get(0));
      });
  }

  /** Stops the front ends first: they stop accepting and finish in-flight requests within the grace period. */
  public Future<Void> drainFrontEnds() {
    List<Future<Void>> undeploys = new ArrayList<>();
    for (String id : frontEnds) {
      undeploys.add(vertx.undeploy(id));
    }
    frontEnds.clear();
    return Future.join(undeploys).mapEmpty();
  }

  /**
   * After the front ends: the gateways stop taking requests (cluster-wide) and finish the ones they
   * have, so a worker member leaves without failing a request.
   */
  public Future<Void> drainCompute() {
    if (gatewayId == null) {
      return Future.succeededFuture();
    }
    String id = gatewayId;
    gatewayId = null;
    return vertx.undeploy(id);
  }

  public int bridgePort() {
    return bridgePort;
  }

  /** The port of the operations endpoints, or -1 when ops.enabled is off. */
  public int opsPort() {
    return opsPort;
  }

  public int httpPort() {
    return httpPort;
  }

  public int tcpPort() {
    return tcpPort;
  }
}
