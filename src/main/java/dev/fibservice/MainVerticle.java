package dev.fibservice;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.CancelIds;
import dev.fibservice.bridge.BridgeVerticle;
import dev.fibservice.bridge.Permissions;
import dev.fibservice.bridge.SockJsBridge;
import dev.fibservice.bridge.StatsFeed;
import dev.fibservice.cluster.Clustering;
import dev.fibservice.cluster.Role;
import dev.fibservice.compute.ComputeGateway;
import dev.fibservice.compute.FibonacciVerticle;
import dev.fibservice.compute.Results;
import dev.fibservice.compute.Warmup;
import dev.fibservice.config.Settings;
import dev.fibservice.http.BigResponseWarmup;
import dev.fibservice.http.HttpVerticle;
import dev.fibservice.http.OpsVerticle;
import dev.fibservice.jobs.JobRunner;
import dev.fibservice.jobs.JobsApiVerticle;
import dev.fibservice.math.EngineThreads;
import dev.fibservice.net.ServerVerticle;
import dev.fibservice.ops.EventLoopLag;
import dev.fibservice.tcp.TcpVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Deploys the node: workers and their gateway first (so the front ends never see NO_HANDLERS), then
 * the HTTP and TCP front ends, one instance per event loop on a shared port. In a cluster the role
 * decides: {@code worker} members deploy only the compute side, {@code http} members only the fronts.
 */
public final class MainVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(MainVerticle.class);

  /** Keys for "any free port" sockets, unique in this JVM (several nodes may run in one test JVM). */
  private static final AtomicInteger ANY_PORT_KEYS = new AtomicInteger();

  private final Node node;
  private final List<String> frontEnds = new ArrayList<>();
  private volatile int httpPort = -1;
  private volatile int tcpPort = -1;
  private volatile int bridgePort = -1;
  private volatile int opsPort = -1;
  private String gatewayId;
  private String jobRunnerId;
  /** The fib.stats pushes of the bridges, when one runs here. */
  private StatsFeed feed;
  /** The SockJS event-bus bridge, when it runs here. */
  private SockJsBridge sockJs;
  private volatile Warmup warmup;
  private volatile Future<Integer> responseWarmup;

  public MainVerticle(Node node) {
    this.node = node;
  }

  /** How many workers of each lane this node runs (none on a member that does not compute). */
  private record Workers(int heavy, int light, int jobs) {
    @Override
    public String toString() {
      return heavy + " heavy + " + light + " light + " + jobs + " job workers";
    }
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    Role role = FibService.role(settings);
    boolean computes = role.computes();
    if (computes && settings.getBoolean(Settings.FIB_WARMUP)) {
      warmup = warmUp();
    }
    if (role.fronts() && settings.getBoolean(Settings.FIB_WARMUP)) {
      responseWarmup = BigResponseWarmup.run(vertx).onSuccess(rounds -> log.info("big-response warm-up: {} of {}"
        + " exchanges", rounds, BigResponseWarmup.ROUNDS));
    }
    Workers workers = new Workers(computes ? settings.getInt(Settings.FIB_HEAVY_WORKERS) : 0,
      computes ? settings.getInt(Settings.FIB_LIGHT_WORKERS) : 0,
      computes && node.database().enabled() ? settings.getInt(Settings.JOBS_WORKERS) : 0);
    Future<Void> compute = computes ? deployCompute(settings, workers) : Future.succeededFuture();
    if (!role.fronts()) {
      return compute.compose(v -> ops(settings)).compose(v -> warm(settings)).compose(v -> answerPings())
        .onSuccess(v -> log.info(
        "fib-service {} node {} ready: worker member, {}, {} gateway instances, {}", node.version(), node.name(),
        workers, settings.getInt(Settings.INSTANCES), runtime(settings)));
    }
    String host = settings.getString(Settings.HOST);
    return compute.compose(v -> deployFrontEnds(settings)).compose(v -> ops(settings)).compose(v -> warm(settings))
      .compose(v -> answerPings()).onSuccess(v -> log.info(
        "fib-service {} node {} ready: HTTP on {}:{}, TCP on {}:{}, {} HTTP/TCP instances, {}, {}", node.version(),
        node.name(), host, httpPort, host, tcpPort, settings.getInt(Settings.INSTANCES), workers, runtime(settings)));
  }

  /** The end of the ready line: event loops, transport and database. */
  private String runtime(Settings settings) {
    return settings.getInt(Settings.EVENT_LOOPS) + " event loops, transport " + node.transport() + ", database "
      + node.database().target();
  }

  /** The workers of each lane, the job runner when jobs run here, then the gateways that admit work for them. */
  private Future<Void> deployCompute(Settings settings, Workers workers) {
    return workers(Addresses.WORKER_HEAVY, "heavy", workers.heavy())
      // the engine's threads for requests, started (and given the heavy lane's niceness) before the first large request
      .compose(v -> vertx.executeBlocking(() -> {
        EngineThreads.prestart();
        return null;
      }))
      .compose(v -> workers(Addresses.WORKER_LIGHT, "light", workers.light()))
      .compose(v -> workers(Addresses.WORKER_JOBS, "jobs", workers.jobs()))
      .compose(v -> workers.jobs() == 0 ? Future.succeededFuture()
        : vertx.deployVerticle(new JobRunner(settings, node.name(), node.metrics(), node.database()))
          .onSuccess(id -> jobRunnerId = id))
      .compose(v -> vertx.deployVerticle(() -> new ComputeGateway(settings, node.metrics(), node.admission(),
        node.cluster(), node.results()), new DeploymentOptions().setInstances(settings.getInt(Settings.INSTANCES))))
      .map(id -> {
        gatewayId = id;
        return null;
      });
  }

  /**
   * The jobs API on the bus and the bridges' fib.stats pushes, then HTTP (with the SockJS bridge) and TCP (one instance
   * per event loop, on a shared port), then the TCP bridge.
   */
  private Future<Void> deployFrontEnds(Settings settings) {
    int instances = settings.getInt(Settings.INSTANCES);
    AtomicInteger httpIndex = new AtomicInteger();
    boolean sockJsOn = settings.getBoolean(Settings.SOCKJS_ENABLED);
    if (sockJsOn || settings.getBoolean(Settings.BRIDGE_ENABLED)) {
      feed = new StatsFeed(node::live);
    }
    SockJsBridge eventBus = sockJsOn ? new SockJsBridge(settings, node.cluster(), node.stats(), feed) : null;
    this.sockJs = eventBus;
    // the JVM's first SecureRandom seeding (cancel ids are drawn from one) gathers and hashes the system's entropy:
    // seconds on a saturated machine, which a fresh node's first /fib request paid on its event loop. Done here on a
    // worker thread; each event loop's own generator then only draws its seed.
    return vertx.executeBlocking(() -> CancelIds.next())
      // with the database off too: callers then get 503 and why, not NO_HANDLERS
      .compose(v -> vertx.deployVerticle(new JobsApiVerticle(settings, node.database())))
      .compose(v -> feed == null ? Future.succeededFuture() : vertx.deployVerticle(feed))
      .compose(v -> shared(settings.getInt(Settings.HTTP_PORT), instances,
        port -> new HttpVerticle(node.forHttp(eventBus == null ? null : eventBus::router), port,
          "http-" + httpIndex.incrementAndGet())))
      .compose(port -> {
        httpPort = port;
        if (eventBus != null) {
          log.info("SockJS event-bus bridge on http://{}:{}{}, permitted: {}", settings.getString(Settings.HOST), port,
            settings.getString(Settings.SOCKJS_PATH), Permissions.summary());
        }
        return shared(settings.getInt(Settings.TCP_PORT), instances, p -> new TcpVerticle(settings, node.metrics(),
          node.tcpConnections(), node.cluster(), node.stats(), p));
      })
      .compose(port -> {
        tcpPort = port;
        return bridge(settings);
      });
  }

  /**
   * Waits for the warm-ups this node started, at most {@code fib.warmupWaitMs}: what comes after the start (its ready
   * line, readiness's warmup check) then finds the engine and the big-response path compiled. Never fails.
   */
  private Future<Void> warm(Settings settings) {
    List<Future<?>> warmups = new ArrayList<>();
    if (warmup != null) {
      warmups.add(Future.fromCompletionStage(warmup.done(), context));
    }
    if (responseWarmup != null) {
      warmups.add(responseWarmup);
    }
    long waitMs = settings.getInt(Settings.FIB_WARMUP_WAIT_MS);
    return waitAtMost(vertx, Future.join(warmups), waitMs).onSuccess(waited -> {
      if (!waited) {
        log.info("ready before the warm-up's end: it goes on in the background (fib.warmupWaitMs = {} ms)", waitMs);
      }
      node.readiness().warmed(waited);
    }).mapEmpty();
  }

  /**
   * In a cluster, this member now answers the fronts' pings: a front sends a computing member work only once it
   * answered one, so a worker member takes work only warm (as /health/ready says UP only warm).
   */
  private Future<Void> answerPings() {
    if (node.cluster() == null) {
      return Future.succeededFuture();
    }
    // said before the consumer exists, so that a front never sees this member answer before its log says why
    log.info("cluster: answering the fronts' pings (warm: {})", node.readiness().warmFinished() ? "warm-ups ended"
      : "fib.warmupWaitMs passed or no warm-up");
    return Clustering.answerPings(vertx, node.cluster());
  }

  /** Completes with true when {@code f} completes (either way) within {@code ms}, with false once {@code ms} pass. */
  static Future<Boolean> waitAtMost(Vertx vertx, Future<?> f, long ms) {
    if (f.isComplete()) {
      return Future.succeededFuture(true);
    }
    if (ms == 0) {
      return Future.succeededFuture(false);
    }
    Promise<Boolean> waited = Promise.promise();
    long timer = vertx.setTimer(ms, t -> waited.tryComplete(false));
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      waited.tryComplete(true);
    });
    return waited.future();
  }

  /** Starts the engine's background warm-up (once per JVM: FibService may have started it already) and logs its end. */
  private static Warmup warmUp() {
    Warmup w = Warmup.start();
    w.done().whenComplete((report, failure) -> {
      if (failure != null) {
        log.error("engine warm-up failed", failure);
      } else {
        log.info("engine warm-up: {} of {} computations in {} ms{}", report.runs(), report.scheduled(), report.millis(),
          report.complete() ? "" : ", cut short by its deadline");
      }
    });
    return w;
  }

  /** The TCP event-bus bridge, when enabled: one instance, it only relays. */
  private Future<Void> bridge(Settings settings) {
    if (!settings.getBoolean(Settings.BRIDGE_ENABLED)) {
      return Future.succeededFuture();
    }
    int port = settings.getInt(Settings.BRIDGE_PORT);
    BridgeVerticle bridge = new BridgeVerticle(settings, node.bridgeConnections(), node.cluster(), node.stats(), feed,
      port);
    return vertx.deployVerticle(bridge).map(id -> {
      frontEnds.add(id);
      bridgePort = bridge.actualPort();
      log.info("bridge ready: TCP event-bus bridge on {}:{}, permitted: {}", settings.getString(Settings.BRIDGE_HOST),
        bridgePort, Permissions.summary());
      return null;
    });
  }

  /**
   * The operations endpoints on a port of their own, when enabled. Not a front end: it keeps answering while the node
   * drains (readiness then says so) and closes with Vert.x.
   */
  private Future<Void> ops(Settings settings) {
    Future<Void> lag = !node.metrics().enabled() ? Future.succeededFuture()
      : vertx.deployVerticle(() -> new EventLoopLag(node.metrics().registry()),
        new DeploymentOptions().setInstances(settings.getInt(Settings.EVENT_LOOPS))).mapEmpty();
    if (!settings.getBoolean(Settings.OPS_ENABLED)) {
      return lag;
    }
    OpsVerticle ops = new OpsVerticle(node.forHttp(null), node.opsConnections());
    return lag.compose(v -> vertx.deployVerticle(ops)).map(id -> {
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
    // the heavy lane fills the node's result cache; the jobs keep their results in the database
    Results results = "heavy".equals(lane) ? node.results() : Results.off();
    return vertx.deployVerticle(() -> new FibonacciVerticle(address, node.name() + "/" + lane + "-"
      + index.incrementAndGet(), node.metrics(), node.stats(), nice, results), options).mapEmpty();
  }

  /**
   * Deploys {@code instances} verticles sharing one listening socket. Vert.x shares a socket between
   * servers of the same port; for "any free port" it does so only when the port is given as a negative
   * key (-k: bind to a free port once, share it among all who say -k), hence the JVM-unique key.
   */
  private Future<Integer> shared(int port, int instances, IntFunction<ServerVerticle> factory) {
    int listenPort = port == 0 ? -ANY_PORT_KEYS.incrementAndGet() : port;
    List<ServerVerticle> deployed = new CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
        ServerVerticle v = factory.apply(listenPort);
        deployed.add(v);
        return v;
      }, new DeploymentOptions().setInstances(instances))
      .map(id -> {
        frontEnds.add(id);
        return deployed.get(0).actualPort();
      });
  }

  /** The fib.stats pushes, or null when neither bridge runs here. */
  public StatsFeed statsFeed() {
    return feed;
  }

  /** The SockJS event-bus bridge, or null when it does not run here. */
  public SockJsBridge sockJs() {
    return sockJs;
  }

  /** Stops the front ends first: they stop accepting and finish in-flight requests within the grace period. */
  public Future<Void> drainFrontEnds() {
    if (sockJs != null) {
      // Vert.x's server shutdown leaves WebSockets open to the end of the grace period: the bridge closes its own
      sockJs.leave();
    }
    List<Future<Void>> undeploys = new ArrayList<>();
    for (String id : frontEnds) {
      undeploys.add(vertx.undeploy(id));
    }
    frontEnds.clear();
    return Future.join(undeploys).mapEmpty();
  }

  /** First thing on a stop: the job runner stops and gives the jobs it runs back at once, for another runner. */
  public Future<Void> stopJobs() {
    String id = jobRunnerId;
    jobRunnerId = null;
    return undeploy(id);
  }

  /**
   * After the front ends: the gateways stop taking requests (cluster-wide) and finish the ones they
   * have, so a worker member leaves without failing a request.
   */
  public Future<Void> drainCompute() {
    String id = gatewayId;
    gatewayId = null;
    return undeploy(id);
  }

  /** Undeploys a deployment of this node, if there is one (null: none, or undeployed already). */
  private Future<Void> undeploy(String id) {
    return id == null ? Future.succeededFuture() : vertx.undeploy(id);
  }

  public int bridgePort() {
    return bridgePort;
  }

  /** The port of the operations endpoints, or -1 when ops.enabled is off. */
  public int opsPort() {
    return opsPort;
  }

  /** The engine warm-up this node started, or null when fib.warmup is off or the node does not compute. */
  public Warmup warmup() {
    return warmup;
  }

  /** The big-response warm-up this node started (its exchanges), or null when fib.warmup is off or it has no HTTP. */
  public Future<Integer> responseWarmup() {
    return responseWarmup;
  }

  public int httpPort() {
    return httpPort;
  }

  public int tcpPort() {
    return tcpPort;
  }
}
