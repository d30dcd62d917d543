package dev.fibservice.client;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.tracing.TracingPolicy;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Calls {@code fib.compute} on the computing members of a fib-service cluster with failover: it picks the member
 * itself ({@link Members#pick}) and sends to that member's own address, so it knows where each computation runs.
 * {@code fib.compute} is idempotent, so an attempt is sent again to another member (at most
 * {@link FibClientOptions#retries()} times, not counting members that left, were suspected or had no gateway: up to 3
 * of those per call) when:
 * <ul>
 *   <li>its member leaves the cluster, or is suspected (it stopped answering: see {@link Members}) while another
 *       member is alive, whatever the size of the computation;</li>
 *   <li>the member has no gateway registered (NO_HANDLERS: starting or leaving) or cannot be reached;</li>
 *   <li>a <em>light</em> computation got no answer within {@link FibClientOptions#attemptTimeoutMs()};</li>
 *   <li>a member that announced its leave answered 503: it handed the computation back.</li>
 * </ul>
 * The attempt given up is cancelled on its member ({@code fib.cancel}, delivered when the member answers again) and
 * its late reply is ignored. Any other answer from a gateway, a failure included (400, 503 busy, 504, 499), is final.
 *
 * <p>Each attempt carries its own cancel id ({@code <cancel id>#<attempt>}); {@link #cancel} and a {@code fib.cancel}
 * published in this JVM with the caller's cancel id reach whichever attempt runs. One client per event loop: it
 * works on the context it was created on (calls from elsewhere hop onto it).
 */
public final class FibClient {

  private final Vertx vertx;
  private final Context context;
  private final Members members;
  private final FibClientOptions options;
  private final CallTracer tracer;
  /** Calls in flight by the caller's cancel id. */
  private final Map<String, Call> calls = new HashMap<>();
  /** Attempts waiting on each member, so that a member's loss retries exactly its attempts. */
  private final Map<String, Set<Attempt>> byMember = new HashMap<>();
  /**
   * A member that leaves the cluster, is suspected or has no gateway (starting, or leaving: its gateway goes before
   * the membership says so) says nothing about the computation, so moving its attempt elsewhere does not use
   * {@code fib.retries}: when two members go one after the other (one killed while the next is still cold, or the
   * next already shutting down), the retries would otherwise be used up by the time the second goes. Bounded, so
   * that a cluster losing one member after another still ends the call.
   */
  private static final int MAX_LOSSES_PER_CALL = 3;
  private static final SecureRandom CANCEL_IDS = new SecureRandom();
  /** What a leaving member answers for what it hands back (its gateways' 503). */
  private static final int HANDED_BACK_CODE = 503;
  private final Runnable stopListening;
  private final MessageConsumer<Object> cancels;

  private static final class Call {
    final JsonObject body;
    final String requestId;
    final String cancelId;
    final boolean light;
    /** What picks its member ({@link Members#pick(Set, Object)}), or null for the least loaded. */
    final Object affinity;
    final Promise<JsonObject> promise = Promise.promise();
    final Set<String> tried = new HashSet<>();
    /** The tracer's handle of the call, or null. */
    Object trace;
    /** The context the call came from (a request's own, on this client's event loop): where its replies go. */
    ContextInternal origin;
    int retriesLeft;
    int lossesLeft = MAX_LOSSES_PER_CALL;
    /** When the whole call is over, whatever its attempts (System.nanoTime()): the request timeout from its start. */
    long deadlineNanos;
    int attempts;
    Attempt current;

    Call(JsonObject body, String requestId, String cancelId, boolean light, Object affinity, int retries) {
      this.body = body;
      this.requestId = requestId;
      this.cancelId = cancelId;
      this.light = light;
      this.affinity = affinity;
      this.retriesLeft = retries;
    }
  }

  private static final class Attempt {
    final Call call;
    final String member;
    final String cancelId;
    final boolean shortTimeout;
    final long timeoutMs;
    final long sentAt = System.nanoTime();
    boolean over;
    /** The tracer's handle of the attempt, or null. */
    Object trace;

    Attempt(Call call, String member, String cancelId, boolean shortTimeout, long timeoutMs) {
      this.call = call;
      this.member = member;
      this.cancelId = cancelId;
      this.shortTimeout = shortTimeout;
      this.timeoutMs = timeoutMs;
    }

    /**
     * A TIMEOUT before the send timeout is not one: the member's gateway discarded the message ("Discarded the
     * request"), as a consumer does with what reaches it after it is unregistered (a member leaving). Nothing ran.
     */
    boolean discarded(ReplyException failure) {
      return failure.failureType() == ReplyFailure.TIMEOUT
        && System.nanoTime() - sentAt < TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    }
  }

  private FibClient(Vertx vertx, Members members, CallTracer tracer) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.members = members;
    this.options = members.options();
    this.tracer = tracer;
    this.stopListening = members.onLost((member, reason) -> context.runOnContext(v -> lost(member, reason)));
    // the caller's own fib.cancel, published in this JVM, is passed on to the attempt that runs now
    this.cancels = vertx.eventBus().localConsumer(Protocol.FIB_CANCEL, m -> {
      if (m.body() instanceof JsonObject body && body.getValue("id") instanceof String id) {
        cancel(id);
      }
    });
  }

  /** A client for the event loop of the calling verticle (or a new context when called outside Vert.x). */
  public static FibClient create(Vertx vertx, Members members) {
    return new FibClient(vertx, members, CallTracer.NONE);
  }

  /** The same, telling {@code tracer} about each call and attempt. */
  public static FibClient create(Vertx vertx, Members members, CallTracer tracer) {
    return new FibClient(vertx, members, tracer);
  }

  /** Stops listening; calls in flight still complete. */
  public void close() {
    stopListening.run();
    cancels.unregister();
  }

  /** F(n) for {"n":..,"algorithm":..}: a heavy computation (no short attempt timeout), under a fresh cancel id. */
  public Future<JsonObject> compute(JsonObject request) {
    return compute(request, null, newId(), false);
  }

  /**
   * F(n) for {"n":..,"algorithm":..}: the reply JSON of {@code fib.compute}, or its failure as a
   * {@link ReplyException} (the gateway's code; 503 NO_HANDLERS when no member is available or the retries are used
   * up; 503 when every member is at {@link FibClientOptions#maxInFlightPerMember()}).
   *
   * @param requestId names the request in the logs (may be null)
   * @param cancelId  the id that cancels it ({@link #cancel}); unique per call
   * @param light     microseconds of work: an attempt gets {@link FibClientOptions#attemptTimeoutMs()} at most
   */
  public Future<JsonObject> compute(JsonObject request, String requestId, String cancelId, boolean light) {
    return compute(request, requestId, cancelId, light, null);
  }

  /**
   * The same, on the member {@code affinity} chooses among the live ones while it is not too loaded (rendezvous
   * hashing, see {@link Members#pick(Set, Object)}): the same key goes to the same member, so that what the member
   * keeps of one computation (its result cache) serves the next. Null: the least loaded member, as above.
   */
  public Future<JsonObject> compute(JsonObject request, String requestId, String cancelId, boolean light,
                                    Object affinity) {
    return compute(request, requestId, cancelId, light, affinity, tracer.callStarted(request, light));
  }

  private Future<JsonObject> compute(JsonObject request, String requestId, String cancelId, boolean light,
                                     Object affinity, Object trace) {
    // a request's own (duplicated) context on this client's event loop is as good as the client's: no hop, and the
    // replies come back on the request's context
    if (!((ContextInternal) context).nettyEventLoop().inEventLoop()) {
      Promise<JsonObject> result = Promise.promise();
      context.runOnContext(v -> compute(request, requestId, cancelId, light, affinity, trace).onComplete(result));
      return result.future();
    }
    Call call = new Call(request, requestId, cancelId != null ? cancelId : newId(), light, affinity, options.retries());
    call.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.requestTimeoutMs());
    call.trace = trace;
    call.origin = ContextInternal.current();
    if (calls.putIfAbsent(call.cancelId, call) != null) {
      if (trace != null) {
        tracer.callEnded(trace, new IllegalArgumentException("cancel id in use"));
      }
      return Future.failedFuture(new IllegalArgumentException("cancel id " + call.cancelId + " is already in use"));
    }
    call.promise.future().onComplete(ar -> {
      calls.remove(call.cancelId, call);
      if (call.trace != null) {
        tracer.callEnded(call.trace, ar.cause());
      }
    });
    attempt(call, null);
    return call.promise.future();
  }

  /** Cancels the call made with this cancel id, on whichever member runs it (the gateway answers it 499). */
  public void cancel(String cancelId) {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> cancel(cancelId));
      return;
    }
    Call call = calls.get(cancelId);
    if (call != null && call.current != null) {
      publishCancel(call.current);
    }
  }

  /**
   * A fresh cancel id: 128 bits from a {@link SecureRandom}, as 32 lowercase hex digits (whoever knows it can cancel
   * the call), the format of the service's own ({@code api.CancelIds}, which this library cannot use: it ships alone).
   * Used only for calls made without an id of the caller's, so the one shared generator is no bottleneck.
   */
  public static String newId() {
    byte[] bits = new byte[16];
    CANCEL_IDS.nextBytes(bits);
    return HexFormat.of().formatHex(bits);
  }

  private void attempt(Call call, RetryReason retryOf) {
    // the request's deadline holds for the call as a whole: retries share it, they never add to it (a light call's
    // short attempts and a lost member's detection would otherwise push the answer past what the caller waits for)
    long leftMs = TimeUnit.NANOSECONDS.toMillis(call.deadlineNanos - System.nanoTime());
    if (leftMs <= 0) {
      call.promise.tryFail(new ReplyException(ReplyFailure.TIMEOUT, -1, "no answer within "
        + options.requestTimeoutMs() + " ms over " + call.attempts + " attempts"));
      return;
    }
    String member = members.pick(call.tried, call.affinity);
    if (member == null) {
      call.promise.tryFail(members.unavailable());
      return;
    }
    if (retryOf != null) {
      members.retried(call.current.member, retryOf);
    }
    // the last attempt always gets the full timeout: on a starved machine a short timer would only turn a slow
    // answer into a 504
    boolean shortTimeout = call.light && call.retriesLeft > 0;
    long timeoutMs = Math.min(shortTimeout ? options.attemptTimeoutMs() : options.requestTimeoutMs(), leftMs);
    Attempt attempt = new Attempt(call, member, call.cancelId + "#" + (++call.attempts), shortTimeout, timeoutMs);
    if (call.trace != null) {
      attempt.trace = tracer.attemptStarted(call.trace, member, members.nameOf(member), call.attempts, retryOf);
    }
    call.current = attempt;
    call.tried.add(member);
    byMember.computeIfAbsent(member, k -> new HashSet<>()).add(attempt);
    members.started(member);
    DeliveryOptions delivery = new DeliveryOptions()
      .setSendTimeout(timeoutMs)
      .addHeader(Protocol.CANCEL_ID_HEADER, attempt.cancelId);
    if (call.requestId != null) {
      delivery.addHeader(Protocol.REQUEST_ID_HEADER, call.requestId);
    }
    if (attempt.trace != null) {
      // the attempt is the event-bus hop's span: Vert.x's own would hang under whatever span is current here
      delivery.setTracingPolicy(TracingPolicy.IGNORE);
      tracer.inject(attempt.trace, delivery::addHeader);
    }
    vertx.eventBus().<JsonObject>request(Protocol.computeOn(member), call.body, delivery).onComplete(ar -> {
      if (ar.succeeded() || (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE)) {
        members.heard(member);
      }
      boolean current = call.current == attempt && !attempt.over;
      end(attempt);
      if (!current || call.promise.future().isComplete()) {
        return; // given up already (its member was lost): a late reply is ignored
      }
      if (ar.succeeded()) {
        traceEnd(attempt, null, null);
        call.promise.complete(ar.result().body());
        return;
      }
      RetryReason reason = retryReason(ar.cause(), attempt);
      traceEnd(attempt, ar.cause(), reason);
      if (reason == null) {
        call.promise.fail(ar.cause());
        return;
      }
      if (reason == RetryReason.NO_HANDLERS) {
        members.avoid(member, 1000);
      } else if (reason == RetryReason.ATTEMPT_TIMEOUT) {
        publishCancel(attempt);
      }
      retry(call, reason, ar.cause());
    });
  }

  private RetryReason retryReason(Throwable failure, Attempt attempt) {
    if (failure instanceof ReplyException re) {
      if (attempt.discarded(re)) {
        return RetryReason.NO_HANDLERS;
      }
      return switch (re.failureType()) {
        case NO_HANDLERS -> RetryReason.NO_HANDLERS;
        case TIMEOUT -> attempt.shortTimeout ? RetryReason.ATTEMPT_TIMEOUT : null;
        // a leaving member's 503 says nothing about the computation: it is given back, not failed
        case RECIPIENT_FAILURE -> re.failureCode() == HANDED_BACK_CODE
          && members.state(attempt.member) == MemberState.LEAVING ? RetryReason.HANDED_BACK : null;
        default -> null;
      };
    }
    return RetryReason.UNREACHABLE; // could not reach the member at all
  }

  private void retry(Call call, RetryReason reason, Throwable cause) {
    if (reason.isLoss() && call.lossesLeft-- > 0) {
      attempt(call, reason);
    } else if (call.retriesLeft-- > 0) {
      attempt(call, reason);
    } else if (cause instanceof ReplyException re && re.failureType() != ReplyFailure.NO_HANDLERS) {
      call.promise.tryFail(cause);
    } else {
      call.promise.tryFail(new ReplyException(ReplyFailure.NO_HANDLERS, 503, "no Fibonacci worker could compute it:"
        + " " + describe(reason)
        + (reason.isLoss() ? ", " + MAX_LOSSES_PER_CALL + " members were lost to this request" : "") + " and the "
        + options.retries() + " retries (fib.retries) were used up; try again"));
    }
  }

  private static String describe(RetryReason reason) {
    return switch (reason) {
      case MEMBER_LEFT -> "the worker member computing it left the cluster";
      case SUSPECTED -> "the worker member computing it stopped answering";
      case NO_HANDLERS -> "the worker member had no gateway registered";
      case UNREACHABLE -> "the worker member could not be reached";
      case ATTEMPT_TIMEOUT -> "the worker member did not answer in time";
      case HANDED_BACK -> "the worker member left and handed it back";
    };
  }

  /**
   * A member was suspected or left: its attempts go to other members. A suspected member may only be paused, so when
   * no other member is alive its attempts go on waiting for it (until their own timeout) rather than fail.
   */
  private void lost(String member, RetryReason reason) {
    Set<Attempt> attempts = byMember.get(member);
    if (attempts == null || (reason == RetryReason.SUSPECTED && !members.anyOtherAlive(member))) {
      return;
    }
    for (Attempt attempt : new ArrayList<>(attempts)) {
      Call call = attempt.call;
      if (call.current != attempt || attempt.over || call.promise.future().isComplete()) {
        continue;
      }
      end(attempt);
      traceEnd(attempt, null, reason);
      if (reason == RetryReason.SUSPECTED) {
        publishCancel(attempt); // delivered if it comes back; the computation it started then stops
      }
      // sent from the call's own context, as the first attempt was: its reply, and the caller's callbacks, run there
      call.origin.dispatch(v -> retry(call, reason, null));
    }
  }

  private void end(Attempt attempt) {
    if (attempt.over) {
      return;
    }
    attempt.over = true;
    members.ended(attempt.member);
    Set<Attempt> attempts = byMember.get(attempt.member);
    if (attempts != null && attempts.remove(attempt) && attempts.isEmpty()) {
      byMember.remove(attempt.member);
    }
  }

  private void traceEnd(Attempt attempt, Throwable failure, RetryReason retry) {
    if (attempt.trace != null) {
      tracer.attemptEnded(attempt.trace, failure, retry);
    }
  }

  private void publishCancel(Attempt attempt) {
    vertx.eventBus().publish(Protocol.FIB_CANCEL, new JsonObject().put("id", attempt.cancelId));
  }
}
