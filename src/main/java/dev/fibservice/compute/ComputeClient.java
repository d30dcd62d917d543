package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
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
 */
public final class ComputeClient {

  private final Vertx vertx;
  private final long busTimeoutMs;
  private final FibClient client;
  /** Where this front counts what each worker member computed for it, or null. */
  private final NodeStats stats;

  private ComputeClient(Vertx vertx, Settings settings, ClusterView view, NodeStats stats) {
    this.vertx = vertx;
    this.stats = stats;
    // a little longer than the gateway's own deadline, so its 504 (with the reason) arrives first
    this.busTimeoutMs = settings.getInt(Settings.FIB_TIMEOUT_MS) + 5_000L;
    this.client = view != null ? view.newClient(vertx) : null;
  }

  /**
   * Call from a verticle's start(): the client belongs to that verticle's event loop.
   *
   * @param view this member's view of the cluster, or null when the node runs alone
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ClusterView view) {
    return new ComputeClient(vertx, settings, view, null);
  }

  /**
   * The same, counting in {@code stats} the computations each worker member did for this front (in a cluster; a node
   * alone has its own workers' counters).
   */
  public static ComputeClient create(Vertx vertx, Settings settings, ClusterView view, NodeStats stats) {
    return new ComputeClient(vertx, settings, view, stats);
  }

  /**
   * Computes F(n): the reply JSON of {@code fib.compute}, or a failure for {@link ServiceError#from}.
   *
   * @param requestId names the request in the logs (the client's id, or one the front made)
   * @param cancelId  the id the front made to cancel it with ({@code fib.cancel}); never a client's
   */
  public Future<JsonObject> compute(FibRequest request, String requestId, String cancelId) {
    if (client == null) {
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(busTimeoutMs)
        .addHeader(Addresses.REQUEST_ID_HEADER, requestId).addHeader(Addresses.CANCEL_ID_HEADER, cancelId);
      return vertx.eventBus().<JsonObject>request(Addresses.FIB_COMPUTE, request.toJson(), delivery)
        .map(reply -> reply.body());
    }
    Future<JsonObject> reply = client.compute(request.toJson(), requestId, cancelId, request.light());
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
