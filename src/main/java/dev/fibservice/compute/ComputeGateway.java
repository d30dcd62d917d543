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
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
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

  /**
   * A request in flight, to answer once: with a computation of its own (shared with its worker) and its deadline, or
   * as one of the callers of a computation identical requests share ({@link Results}).
   */
  private static final class Running {
    /** Names the request in the logs. */
    final String id;
    final Message<Object> message;
    /** Its key in {@link #running}. */
    final Object key;
    /** Its own computation, or null when it shares one. */
    Computation computation;
    /** Its share of a computation, or null when it has its own. */
    SingleFlight<Integer, ComputeResult>.Caller shared;
    /** The timer of its own deadline, or -1. */
    long deadline = -1;
    boolean answered;

    Running(String id, Message<Object> message, Object key) {
      this.id = id;
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
  private final Results results;
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
   * @param results   the node's result cache and shared computations, shared by every gateway instance
   */
  public ComputeGateway(Settings settings, Metrics metrics, Admission admission, ClusterView cluster, Results results) {
    this.settings = settings;
    this.metrics = metrics;
    this.admission = admission;
    this.cluster = cluster;
    this.results = results;
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
    if (results.cached(request)) {
      CachedResult hit = results.lookUp(Results.Side.GATEWAY, request.n());
      if (hit != null) {
        try {
          message.reply(hit.toJson());
        } finally {
          hit.release();
        }
        if (span != null) {
          span.setAttribute("fib.cache", "hit");
          span.end();
        }
        return;
      }
    }
    if (results.coalesced(request)) {
      share(message, request, span);
      return;
    }
    boolean light = lightLane && request.light();
    if (!admission.tryAcquire(light)) {
      metrics.rejected();
      String busy = busy();
      Traces.fail(span, busy);
      message.fail(ServiceError.UNAVAILABLE, busy);
      return;
    }
    Running run = track(message);
    Computation computation = new Computation(run.id, request);
    run.computation = computation;
    run.deadline = vertx.setTimer(timeoutMs, t -> {
      computation.cancel();
      metrics.timedOut();
      run.fail(ServiceError.TIMEOUT, pastDeadline(request));
    });
    String lane = light ? Addresses.WORKER_LIGHT : Addresses.WORKER_HEAVY;
    DeliveryOptions delivery = new DeliveryOptions(toWorker).addHeader(Addresses.REQUEST_ID_HEADER, run.id);
    traced(span, delivery, computation, request, light);
    vertx.eventBus().<ComputeResult>request(lane, computation, delivery).onComplete(ar -> {
      admission.release(light);
      untrack(run);
      answer(run, ar.map(Message::body));
      ended(span, ar);
    });
  }

  /**
   * The gateway's span says what it admitted and where; the worker's spans go under it (and the hop to the worker, a
   * local one, is no span of its own).
   */
  private void traced(Span span, DeliveryOptions delivery, Computation computation, FibRequest request, boolean light) {
    if (span == null) {
      return;
    }
    span.setAttribute("fib.n", request.n());
    span.setAttribute("fib.algorithm", request.algorithm().wireName());
    span.setAttribute("fib.lane", light ? "light" : "heavy");
    span.addEvent("admitted", Attributes.of(IN_FLIGHT, (long) admission.inFlight(light)));
    computation.traced(Traces.capture(span), Traces.startUnder(span, "fib.queue", SpanKind.INTERNAL));
    delivery.setTracingPolicy(TracingPolicy.IGNORE);
  }

  private static void ended(Span span, AsyncResult<?> outcome) {
    if (outcome.failed()) {
      Traces.fail(span, String.valueOf(outcome.cause().getMessage()));
    } else {
      Traces.end(span);
    }
  }

  /**
   * A request that shares the computation of identical ones in flight on this node (any gateway instance), or starts
   * it. Answered when it ends, or at once when its own cancel id is cancelled (the computation goes on for the others,
   * and stops when none is left).
   */
  private void share(Message<Object> message, FibRequest request, Span span) {
    Running run = track(message);
    if (span != null) {
      span.setAttribute("fib.shared", true);
    }
    run.shared = results.gateway().join(request.n(), n -> startShared(request, run.id, span));
    run.shared.outcome().onComplete(ar -> {
      untrack(run);
      answer(run, ar);
      ended(span, ar);
    });
  }

  /**
   * The computation identical requests share: admitted once, with one deadline (fib.timeoutMs from its start, so that
   * the computation never runs longer than that, however many join it late: they share its end, 504 included). Its
   * spans go under the gateway span of the request that started it.
   */
  private SingleFlight.Work<ComputeResult> startShared(FibRequest request, String id, Span span) {
    if (!admission.tryAcquire(false)) {
      metrics.rejected();
      throw new ServiceError(ServiceError.UNAVAILABLE, busy(), null);
    }
    Computation computation = new Computation(id, request);
    Promise<ComputeResult> outcome = Promise.promise();
    long deadline = vertx.setTimer(timeoutMs, t -> {
      computation.cancel();
      metrics.timedOut();
      outcome.tryFail(new ServiceError(ServiceError.TIMEOUT, pastDeadline(request), null));
    });
    DeliveryOptions delivery = new DeliveryOptions(toWorker).addHeader(Addresses.REQUEST_ID_HEADER, id);
    traced(span, delivery, computation, request, false);
    vertx.eventBus().<ComputeResult>request(Addresses.WORKER_HEAVY, computation, delivery).onComplete(ar -> {
      admission.release(false);
      vertx.cancelTimer(deadline);
      if (ar.succeeded()) {
        outcome.tryComplete(ar.result().body());
      } else {
        outcome.tryFail(ar.cause());
      }
    });
    return new SingleFlight.Work<>() {
      @Override
      public Future<ComputeResult> outcome() {
        return outcome.future();
      }

      @Override
      public void cancel() {
        computation.cancel();
      }
    };
  }

  private String busy() {
    return "busy: " + admission.max() + " computations are already queued or running on this node (fib.maxInFlight);"
      + " retry shortly";
  }

  private String pastDeadline(FibRequest request) {
    return "F(" + request.n() + ") with algorithm " + request.algorithm().wireName() + " did not finish within"
      + " fib.timeoutMs = " + timeoutMs + " ms and was cancelled";
  }

  /** A request in flight, kept under its cancel id until it is answered. */
  private Running track(Message<Object> message) {
    // the request id names the request in the logs, front and worker; only the cancel id can cancel it
    String id = message.headers().get(Addresses.REQUEST_ID_HEADER);
    String cancelId = message.headers().get(Addresses.CANCEL_ID_HEADER);
    Running run = new Running(id != null ? id : RequestIds.next(), message,
      cancelId != null && !running.containsKey(cancelId) ? cancelId : new Object());
    running.put(run.key, run);
    inFlight++;
    return run;
  }

  /** The worker answered, or the bus gave up on it: the computation is no longer in flight. */
  private void untrack(Running run) {
    running.remove(run.key, run);
    if (--inFlight == 0 && drained != null) {
      drained.tryComplete();
    }
    if (run.deadline >= 0) {
      vertx.cancelTimer(run.deadline);
    }
  }

  /** Relays what the worker said, unless the deadline or the shutdown answered first. */
  private void answer(Running run, AsyncResult<ComputeResult> outcome) {
    if (run.answered) {
      return;
    }
    run.answered = true;
    if (outcome.succeeded()) {
      run.message.reply(outcome.result().toJson());
    } else {
      ServiceError error = ServiceError.from(outcome.cause());
      if (error.status() == ServiceError.INTERNAL) {
        log.error("computation {} failed: {}", run.id, error.getMessage());
      }
      run.message.fail(error.status(), error.getMessage());
    }
  }

  /**
   * The shutdown grace period is over: what still runs is stopped and answered 503, not cut off. In a cluster that
   * hands it back: the fronts know this member leaves, and send a 503 of a leaving member to another one.
   */
  private void abortAll() {
    String text = cluster != null ? "this member is leaving and the computation ran past its grace period"
      + " (shutdown.graceMs): handed back, to be sent to another member"
      : "the service is shutting down and this computation ran past the grace period (shutdown.graceMs); retry on"
      + " another node";
    int handedBack = 0;
    // a shared request leaving is answered at once, which takes it out of running
    for (Running run : new ArrayList<>(running.values())) {
      if (!run.answered) {
        handedBack++;
      }
      if (run.shared != null) {
        results.gateway().leave(run.shared, new ServiceError(ServiceError.UNAVAILABLE, text, null));
      } else {
        run.computation.cancel();
        run.fail(ServiceError.UNAVAILABLE, text);
      }
    }
    if (handedBack > 0) {
      log.info("{} {} computations that ran past shutdown.graceMs", cluster != null ? "handed back" : "answered 503 to",
        handedBack);
    }
  }

  /**
   * {"id": cancel id}: the id travels as the x-cancel-id header of the request, never as its x-request-id. A request
   * sharing a computation leaves it (answered 499 now; the computation stops when nobody is left).
   */
  private void cancel(Message<Object> message) {
    if (message.body() instanceof JsonObject body && body.getValue("id") instanceof String id) {
      Running run = running.get(id);
      if (run == null) {
        return;
      }
      if (run.shared != null) {
        results.gateway().leave(run.shared, new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
          FibonacciVerticle.CANCELLED, "cancelled"));
      } else {
        run.computation.cancel();
      }
    }
  }
}
