package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.RequestIds;
import dev.fibservice.api.ServiceError;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.tracing.TracingPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The public face of the workers, on an event loop: consumes {@code fib.compute}, validates the body,
 * admits it under the node's in-flight cap (503 at once when full), picks the light or heavy lane,
 * enforces the deadline (504, and the worker is told to stop) and honours {@code fib.cancel}.
 * In a cluster it also answers on its member's own address (see {@link Addresses#computeOn}), and on
 * undeploy it stops taking requests first, then waits for the ones it has (graceful leave).
 */
public final class ComputeGateway extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(ComputeGateway.class);
  private static final AttributeKey<Long> IN_FLIGHT = AttributeKey.longKey("fib.lane.inFlight");

  /** A computation in flight (shared with its worker), the request to answer (once) and its deadline. */
  private static final class Running {
    final Computation computation;
    final Message<Object> message;
    /** Its key in {@link #running}. */
    final Object key;
    long deadline;
    boolean answered;

    Running(Computation computation, Message<Object> message, Object key) {
      this.computation = computation;
      this.message = message;
      this.key = key;
    }

    void fail(int status, String text) {
      if (!answered) {
        answered = true;
        message.fail(status, text);
      }
    }
  }

  private final Settings settings;
  private final Metrics metrics;
  private final Admission admission;
  private final ClusterView cluster;
  /**
   * What is in flight, by cancel id (the {@code x-cancel-id} header); a request without one, or with one already in
   * use, is kept under a key no {@code fib.cancel} can name.
   */
  private final Map<Object, Running> running = new HashMap<>();
  private FibRequest.Limits limits;
  private boolean lightLane;
  private long timeoutMs;
  private DeliveryOptions toWorker;
  private final List<MessageConsumer<Object>> computeConsumers = new ArrayList<>();
  private int inFlight;
  private Promise<Void> drained;

  /**
   * @param admission the node's cap on computations in flight, shared by every gateway instance
   * @param cluster   this member's view of the cluster, or null when the node runs alone
   */
  public ComputeGateway(Settings settings, Metrics metrics, Admission admission, ClusterView cluster) {
    this.settings = settings;
    this.metrics = metrics;
    this.admission = admission;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    limits = FibRequest.Limits.from(settings);
    lightLane = settings.getInt(Settings.FIB_LIGHT_WORKERS) > 0;
    timeoutMs = settings.getInt(Settings.FIB_TIMEOUT_MS);
    // The gateway's own timer answers 504 first; this bus timeout only reclaims a reply that never comes.
    toWorker = new DeliveryOptions().setLocalOnly(true).setSendTimeout(2 * timeoutMs + 60_000);
    computeConsumers.add(vertx.eventBus().consumer(Addresses.FIB_COMPUTE, this::compute));
    if (cluster != null) {
      computeConsumers.add(vertx.eventBus().consumer(Addresses.computeOn(cluster.selfId()), this::compute));
    }
    List<Future<Void>> registered = new ArrayList<>();
    computeConsumers.forEach(c -> registered.add(c.completion()));
    registered.add(vertx.eventBus().consumer(Addresses.FIB_CANCEL, this::cancel).completion());
    registered.add(vertx.eventBus().localConsumer(Addresses.GATEWAY_ABORT, m -> abortAll()).completion());
    return Future.join(registered);
  }

  /**
   * Graceful leave: unregister (cluster-wide) so no new request comes, then wait for the admitted ones,
   * at most shutdown.graceMs. Cancellation keeps working meanwhile.
   */
  @Override
  public Future<?> stop() {
    List<Future<Void>> unregistered = new ArrayList<>();
    computeConsumers.forEach(c -> unregistered.add(c.unregister()));
    return Future.join(unregistered).transform(ar -> {
      if (inFlight == 0) {
        return Future.succeededFuture();
      }
      drained = Promise.promise();
      long timer = vertx.setTimer(Math.max(1, settings.getInt(Settings.SHUTDOWN_GRACE_MS)), t -> drained.tryComplete());
      return drained.future().onComplete(v -> vertx.cancelTimer(timer));
    });
  }

  private void compute(Message<Object> message) {
    // under the event-bus hop's span, when the sender traces: admission, the wait for a worker, the computation
    Span span = Traces.start("fib.gateway");
    FibRequest request;
    try {
      request = FibRequest.fromJson(message.body(), limits);
    } catch (ServiceError e) {
      Traces.fail(span, e.getMessage());
      message.fail(e.status(), e.getMessage());
      return;
    }
    boolean light = lightLane && request.light();
    if (!admission.tryAcquire(light)) {
      metrics.rejected();
      String busy = "busy: " + admission.max() + " computations are already queued or running on this node"
        + " (fib.maxInFlight); retry shortly";
      Traces.fail(span, busy);
      message.fail(ServiceError.UNAVAILABLE, busy);
      return;
    }
    Running run = track(message, request);
    String lane = light ? Addresses.WORKER_LIGHT : Addresses.WORKER_HEAVY;
    DeliveryOptions delivery = new DeliveryOptions(toWorker).addHeader(Addresses.REQUEST_ID_HEADER, run.computation.id());
    if (span != null) {
      admitted(span, run.computation, request, light);
      delivery.setTracingPolicy(TracingPolicy.IGNORE);
    }
    vertx.eventBus().<ComputeResult>request(lane, run.computation, delivery).onComplete(ar -> {
      admission.release(light);
      untrack(run);
      answer(run, ar);
      if (span != null) {
        if (ar.failed()) {
          span.setStatus(StatusCode.ERROR, String.valueOf(ar.cause().getMessage()));
        }
        span.end();
      }
    });
  }

  /** The gateway's span says what it admitted and where; the worker's spans go under it. */
  private void admitted(Span span, Computation computation, FibRequest request, boolean light) {
    span.setAttribute("fib.n", request.n());
    span.setAttribute("fib.algorithm", request.algorithm().wireName());
    span.setAttribute("fib.lane", light ? "light" : "heavy");
    span.addEvent("admitted", Attributes.of(IN_FLIGHT, (long) admission.inFlight(light)));
    computation.traced(Traces.capture(span), Traces.startUnder(span, "fib.queue", SpanKind.INTERNAL));
  }

  /**
   * An admitted computation, kept under its cancel id until it ends, with its deadline: past it the request gets
   * 504 and the worker is told to stop.
   */
  private Running track(Message<Object> message, FibRequest request) {
    // the request id names the request in the logs, front and worker; only the cancel id can cancel it
    String id = message.headers().get(Addresses.REQUEST_ID_HEADER);
    Computation computation = new Computation(id != null ? id : RequestIds.next(), request);
    String cancelId = message.headers().get(Addresses.CANCEL_ID_HEADER);
    Running run = new Running(computation, message, cancelId != null && !running.containsKey(cancelId) ? cancelId : new Object());
    running.put(run.key, run);
    inFlight++;
    run.deadline = vertx.setTimer(timeoutMs, t -> {
      computation.cancel();
      metrics.timedOut();
      run.fail(ServiceError.TIMEOUT, "F(" + request.n() + ") with algorithm " + request.algorithm().wireName()
        + " did not finish within fib.timeoutMs = " + timeoutMs + " ms and was cancelled");
    });
    return run;
  }

  /** The worker answered, or the bus gave up on it: the computation is no longer in flight. */
  private void untrack(Running run) {
    running.remove(run.key, run);
    if (--inFlight == 0 && drained != null) {
      drained.tryComplete();
    }
    vertx.cancelTimer(run.deadline);
  }

  /** Relays what the worker said, unless the deadline or the shutdown answered first. */
  private void answer(Running run, AsyncResult<Message<ComputeResult>> outcome) {
    if (run.answered) {
      return;
    }
    run.answered = true;
    if (outcome.succeeded()) {
      run.message.reply(outcome.result().body().toJson());
    } else {
      ServiceError error = ServiceError.from(outcome.cause());
      if (error.status() == ServiceError.INTERNAL) {
        log.error("computation {} failed: {}", run.computation.id(), error.getMessage());
      }
      run.message.fail(error.status(), error.getMessage());
    }
  }

  /**
   * The shutdown grace period is over: what still runs is stopped and answered 503, not cut off. In a cluster that
   * hands it back: the fronts know this member leaves, and send a 503 of a leaving member to another one.
   */
  private void abortAll() {
    int handedBack = 0;
    for (Running run : running.values()) {
      run.computation.cancel();
      if (!run.answered) {
        handedBack++;
      }
      run.fail(ServiceError.UNAVAILABLE, cluster != null ? "this member is leaving and the computation ran past its"
        + " grace period (shutdown.graceMs): handed back, to be sent to another member"
        : "the service is shutting down and this computation ran past the grace period (shutdown.graceMs); retry on"
        + " another node");
    }
    if (handedBack > 0) {
      log.info("{} {} computations that ran past shutdown.graceMs", cluster != null ? "handed back" : "answered 503 to",
        handedBack);
    }
  }

  /** {"id": cancel id}: the id travels as the x-cancel-id header of the request, never as its x-request-id. */
  private void cancel(Message<Object> message) {
    if (message.body() instanceof JsonObject body && body.getValue("id") instanceof String id) {
      Running run = running.get(id);
      if (run != null) {
        run.computation.cancel();
      }
    }
  }
}
