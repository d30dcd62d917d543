package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.cluster.ComputeMembers;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * How the front ends (HTTP, TCP, bridge) call {@code fib.compute}. One per front verticle instance,
 * used on its event loop only.
 *
 * <p>Alone, it is a plain event-bus request. In a cluster it picks the worker member itself (round
 * robin over the members whose role computes and that answered this member's ping over the event bus:
 * see {@link ClusterView}; Vert.x reports a refused TLS handshake only as a TIMEOUT at the end of a
 * request, so such a member is never tried) and sends to that member's own address, so it always
 * knows where each request runs. {@code fib.compute} is idempotent, so an attempt is retried on
 * another member (at most {@code fib.retries} times) when:
 * <ul>
 *   <li>that member leaves the cluster (killed: Hazelcast notices in about 0.3 s on loopback; or
 *       stopped), whatever the size of the computation;</li>
 *   <li>the member has no gateway registered (NO_HANDLERS: starting or leaving) or cannot be reached;</li>
 *   <li>a <em>light</em> computation (microseconds of work) got no answer within
 *       {@code fib.attemptTimeoutMs}: a member that is alive but stuck. The last attempt waits for the
 *       full deadline instead.</li>
 * </ul>
 * Heavy computations are not given a short per-attempt timeout: they legitimately run for seconds, and
 * a retry would only start the same long work twice. Their guard is the membership event, plus the
 * gateway's own deadline ({@code fib.timeoutMs}, 504). An answer from a gateway, including a failure
 * (400, 503 busy, 504), is final: it is not retried.
 */
public final class ComputeClient {

  private final Vertx vertx;
  private final Context context;
  private final ComputeMembers view;
  private final long busTimeoutMs;
  private final long attemptTimeoutMs;
  private final int retries;
  /** Where this front counts what each worker member computed for it, or null. */
  private final NodeStats stats;
  /** Calls waiting on each member, so that a member's departure retries exactly its calls. */
  private final Map<String, Set<Call>> byMember = new HashMap<>();

  private ComputeClient(Vertx vertx, Settings settings, ComputeMembers view, NodeStats stats) {
    this.vertx = vertx;
    this.stats = stats;
    this.context = vertx.getOrCreateContext();
    this.view = view;
    // a little longer than the gateway's own deadline, so its 504 (with the reason) arrives first
    this.busTimeoutMs = settings.getInt(Settings.FIB_TIMEOUT_MS) + 5_000L;
    this.attemptTimeoutMs = settings.getInt(Settings.FIB_ATTEMPT_TIMEOUT_MS);
    this.retries = settings.getInt(Settings.FIB_RETRIES);
    if (view != null) {
      view.onMemberLeft(id -> context.runOnContext(v -> memberLeft(id)));
    }
  }

  /**
   * Call from a verticle's start(): the client belongs to that verticle's event loop.
   *
   * @param view this member's view of the cluster, or null when the node runs alone
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ComputeMembers view) {
    return new ComputeClient(vertx, settings, view, null);
  }

  /**
   * The same, counting in {@code stats} the computations each worker member did for this front (in a cluster; a node
   * alone has its own workers' counters).
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ComputeMembers view, NodeStats stats) {
    return new ComputeClient(vertx, settings, view, stats);
  }

  /**
   * Computes F(n): the reply JSON of {@code fib.compute}, or a failure for {@link ServiceError#from}.
   *
   * @param requestId names the request in the logs (the client's id, or one the front made)
   * @param cancelId  the id the front made to cancel it with ({@code fib.cancel}); never a client's
   */
  public Future<JsonObject> compute(FibRequest request, String requestId, String cancelId) {
    if (view == null) {
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(busTimeoutMs)
        .addHeader(Addresses.REQUEST_ID_HEADER, requestId).addHeader(Addresses.CANCEL_ID_HEADER, cancelId);
      return vertx.eventBus().<JsonObject>request(Addresses.FIB_COMPUTE, request.toJson(), delivery)
        .map(reply -> reply.body());
    }
    Call call = new Call(request, requestId, cancelId, retries);
    attempt(call);
    return call.promise.future();
  }

  private static final class Call {
    final FibRequest request;
    final String id;
    final String cancelId;
    final Promise<JsonObject> promise = Promise.promise();
    final Set<String> tried = new HashSet<>();
    int retriesLeft;
    int attempt;
    String member;

    Call(FibRequest request, String id, String cancelId, int retries) {
      this.request = request;
      this.id = id;
      this.cancelId = cancelId;
      this.retriesLeft = retries;
    }
  }

  private void attempt(Call call) {
    String member = view.pick(call.tried);
    if (member == null) {
      call.promise.tryFail(noWorker());
      return;
    }
    int attempt = ++call.attempt;
    call.member = member;
    call.tried.add(member);
    byMember.computeIfAbsent(member, k -> new HashSet<>()).add(call);
    // the last attempt always gets the full deadline: on a starved machine a short timer would only turn a
    // slow answer into a 504
    boolean shortAttempt = call.request.light() && call.retriesLeft > 0;
    DeliveryOptions delivery = new DeliveryOptions()
      .setSendTimeout(shortAttempt ? attemptTimeoutMs : busTimeoutMs)
      .addHeader(Addresses.REQUEST_ID_HEADER, call.id).addHeader(Addresses.CANCEL_ID_HEADER, call.cancelId);
    vertx.eventBus().<JsonObject>request(Addresses.computeOn(member), call.request.toJson(), delivery)
      .onComplete(ar -> {
        if (call.attempt != attempt || call.promise.future().isComplete()) {
          return; // superseded by a retry after its member left
        }
        untrack(call, member);
        if (ar.succeeded()) {
          if (stats != null) {
            stats.computedFor(ar.result().body().getString("worker"));
          }
          call.promise.complete(ar.result().body());
        } else if (retryable(ar.cause(), shortAttempt)) {
          if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            view.avoid(member, 1000);
          }
          retry(call, ar.cause());
        } else {
          call.promise.fail(ar.cause());
        }
      });
  }

  private static boolean retryable(Throwable failure, boolean shortAttempt) {
    if (failure instanceof ReplyException re) {
      return switch (re.failureType()) {
        case NO_HANDLERS -> true;
        case TIMEOUT -> shortAttempt;
        default -> false;
      };
    }
    return true; // could not reach the member at all
  }

  private void retry(Call call, Throwable cause) {
    if (call.retriesLeft-- > 0) {
      attempt(call);
    } else if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      call.promise.tryFail(noWorker());
    } else {
      call.promise.tryFail(cause);
    }
  }

  private void memberLeft(String member) {
    Set<Call> calls = byMember.remove(member);
    if (calls == null) {
      return;
    }
    for (Call call : calls) {
      if (!call.promise.future().isComplete()) {
        call.attempt++; // a late reply from the old attempt is ignored
        retry(call, new ServiceError(ServiceError.UNAVAILABLE, "the worker member computing F(" + call.request.n()
          + ") left the cluster, and fib.retries = " + retries + " retries were used up; try again", null));
      }
    }
  }

  private void untrack(Call call, String member) {
    Set<Call> calls = byMember.get(member);
    if (calls != null && calls.remove(call) && calls.isEmpty()) {
      byMember.remove(member);
    }
  }

  private static ServiceError noWorker() {
    return new ServiceError(ServiceError.UNAVAILABLE, "no Fibonacci worker is available in the cluster right now;"
      + " try again shortly", null);
  }
}
