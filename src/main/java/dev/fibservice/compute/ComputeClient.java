package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.RequestIds;
import dev.fibservice.api.ServiceError;
import dev.fibservice.client.FibClient;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.config.Settings;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * How the front ends (HTTP, TCP, bridge) call {@code fib.compute}. One per front verticle instance, used on its
 * event loop only.
 *
 * <p>Alone, it is a plain event-bus request. In a cluster it is the client library's {@link FibClient}: it picks
 * the computing member itself among those that answer this member's pings (see {@link ClusterView}), sends to that
 * member's own address, and sends a computation again to another member (at most {@code fib.retries} times) when
 * its member leaves, stops answering (suspected after {@code cluster.suspectAfterMs}), has no gateway, cannot be
 * reached, or, for a <em>light</em> computation, gives no answer within {@code fib.attemptTimeoutMs}. Heavy
 * computations get no short attempt timeout: they legitimately run for seconds; their guard is the member's
 * liveness, which pings keep checking while they run, plus the gateway's own deadline ({@code fib.timeoutMs}, 504).
 * An answer from a gateway, including a failure (400, 503 busy, 504), is final: it is not retried.
 *
 * <p>With the node's {@link Results} (the HTTP front's), a heavy {@code doubling} request is answered from the node's
 * result cache when it is there, without the event bus, and identical ones in flight at once on this node's fronts
 * share one call: each caller may leave it (its cancel id, published on {@code fib.cancel}, is answered 499 at once),
 * and the call is cancelled when the last one does. In a cluster the same heavy n goes to the same worker member
 * (see {@link dev.fibservice.client.Members#pick(java.util.Set, Object)}), so that the members' caches share the work.
 */
public final class ComputeClient {

  private final Vertx vertx;
  private final long busTimeoutMs;
  private final FibClient client;
  /** Where this front counts what each worker member computed for it, or null. */
  private final NodeStats stats;
  private final Results results;
  /** This client's callers of shared calls, by their cancel id. */
  private final Map<String, SingleFlight<Integer, JsonObject>.Caller> sharing = new HashMap<>();

  private ComputeClient(Vertx vertx, Settings settings, ClusterView view, NodeStats stats, Results results) {
    this.vertx = vertx;
    this.stats = stats;
    this.results = results;
    // a little longer than the gateway's own deadline, so its 504 (with the reason) arrives first
    this.busTimeoutMs = settings.getInt(Settings.FIB_TIMEOUT_MS) + 5_000L;
    this.client = view != null ? view.newClient(vertx) : null;
    if (results.singleFlight()) {
      // a caller's own cancel id, as the fronts publish it, makes it leave the call it shares
      vertx.eventBus().<Object>localConsumer(Addresses.FIB_CANCEL, m -> {
        if (m.body() instanceof JsonObject body && body.getValue("id") instanceof String id) {
          SingleFlight<Integer, JsonObject>.Caller caller = sharing.get(id);
          if (caller != null) {
            results.front().leave(caller, new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
              FibonacciVerticle.CANCELLED, "cancelled"));
          }
        }
      });
    }
  }

  /**
   * Call from a verticle's start(): the client belongs to that verticle's event loop.
   *
   * @param view this member's view of the cluster, or null when the node runs alone
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ClusterView view) {
    return new ComputeClient(vertx, settings, view, null, Results.off());
  }

  /**
   * The same, counting in {@code stats} the computations each worker member did for this front (in a cluster; a node
   * alone has its own workers' counters).
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ClusterView view, NodeStats stats) {
    return new ComputeClient(vertx, settings, view, stats, Results.off());
  }

  /** The same, with the node's result cache and shared calls (see above). */
  public static ComputeClient create(Vertx vertx, Settings settings, ClusterView view, NodeStats stats,
                                     Results results) {
    return new ComputeClient(vertx, settings, view, stats, results);
  }

  /**
   * F(n) as the front answers it: from the node's result cache when it is there (no event bus), else computed, and
   * then kept when it is of the kind kept. The caller releases the reply once its body is written.
   */
  public Future<Reply> reply(FibRequest request, String requestId, String cancelId) {
    boolean cached = results.cached(request);
    if (cached) {
      CachedResult hit = results.lookUp(Results.Side.FRONT, request.n());
      if (hit != null) {
        return Future.succeededFuture(Reply.of(hit));
      }
    }
    return compute(request, requestId, cancelId).map(json -> {
      CachedResult kept = cached ? keep(request.n(), json) : null;
      return kept != null ? Reply.of(kept) : Reply.of(json);
    });
  }

  /**
   * The computed result in the node's cache: the one this node's worker kept, or a copy of a reply from another
   * member; null when it is not kept (larger than the cache, or a reply without its fields).
   */
  private CachedResult keep(int n, JsonObject json) {
    if (!(json.getValue("value") instanceof String value) || !(json.getValue("computeMicros") instanceof Number micros)
      || !(json.getValue("worker") instanceof String worker)) {
      return null;
    }
    try {
      return results.cache().put(n, value, micros.longValue(), worker);
    } catch (OutOfMemoryError | RuntimeException e) {
      // the memory off the heap is used up: answered from the reply itself, not kept
      return null;
    }
  }

  /**
   * Computes F(n): the reply JSON of {@code fib.compute}, or a failure for {@link ServiceError#from}.
   *
   * @param requestId names the request in the logs (the client's id, or one the front made)
   * @param cancelId  the id the front made to cancel it with ({@code fib.cancel}); never a client's
   */
  public Future<JsonObject> compute(FibRequest request, String requestId, String cancelId) {
    if (results.coalesced(request)) {
      return share(request, requestId, cancelId);
    }
    return send(request, requestId, cancelId);
  }

  /**
   * The call identical requests in flight on this node's fronts share (or starts it), under a cancel id of its own: a
   * caller's cancel id makes that caller leave; the call is cancelled when nobody is left.
   */
  private Future<JsonObject> share(FibRequest request, String requestId, String cancelId) {
    SingleFlight<Integer, JsonObject>.Caller caller = results.front().join(request.n(), n -> {
      String callId = RequestIds.next();
      Future<JsonObject> sent = send(request, requestId, callId);
      return new SingleFlight.Work<>() {
        @Override
        public Future<JsonObject> outcome() {
          return sent;
        }

        @Override
        public void cancel() {
          vertx.eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", callId));
        }
      };
    });
    if (cancelId == null) {
      return caller.outcome().map(JsonObject::copy);
    }
    sharing.put(cancelId, caller);
    // each caller its own copy of the reply (the digits' String is shared: it is immutable)
    return caller.outcome().andThen(ar -> sharing.remove(cancelId, caller)).map(JsonObject::copy);
  }

  /** One call of fib.compute: on this node's gateways, or in a cluster on a worker member. */
  private Future<JsonObject> send(FibRequest request, String requestId, String cancelId) {
    if (client == null) {
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(busTimeoutMs)
        .addHeader(Addresses.REQUEST_ID_HEADER, requestId).addHeader(Addresses.CANCEL_ID_HEADER, cancelId);
      return vertx.eventBus().<JsonObject>request(Addresses.FIB_COMPUTE, request.toJson(), delivery)
        .map(reply -> reply.body());
    }
    // the same heavy doubling n to the same member, whose cache then has it
    Object affinity = Results.heavyDoubling(request) ? request.n() : null;
    Future<JsonObject> reply = client.compute(request.toJson(), requestId, cancelId, request.light(), affinity);
    if (stats != null) {
      reply = reply.onSuccess(body -> stats.computedFor(body.getString("worker")));
    }
    return reply.recover(e -> {
      // the library's own 503s (no member available, retries used up) carry their reason
      if (e instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        return Future.failedFuture(new ServiceError(ServiceError.UNAVAILABLE, re.getMessage(), null));
      }
      return Future.failedFuture(e);
    });
  }
}
