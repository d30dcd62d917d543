package dev.fibservice.bridge;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

/**
 * What a permitted {@code send} of a bridge client does, the same through the TCP bridge and the SockJS bridge:
 * {@code fib.compute} goes through the front's {@link ComputeClient} (the one HTTP and TCP use: validation with the same
 * words, caps, deadline, failover, cancel ids), {@code jobs.*} to the jobs API on the bus. One per bridge verticle
 * instance, used on its event loop only.
 */
final class BridgeCalls {

  private final Vertx vertx;
  private final ComputeClient fib;
  private final FibRequest.Limits limits;
  private final long jobsTimeoutMs;

  BridgeCalls(Vertx vertx, Settings settings, ComputeClient fib) {
    this.vertx = vertx;
    this.fib = fib;
    this.limits = FibRequest.Limits.from(settings);
    // as the compute client's: a little longer than the node's own deadlines, so that their answer comes first
    this.jobsTimeoutMs = settings.getInt(Settings.FIB_TIMEOUT_MS) + 5_000L;
  }

  /** Whether a send to this address can be cancelled (it is a computation under a cancel id). */
  static boolean cancellable(String address) {
    return Addresses.FIB_COMPUTE.equals(address);
  }

  /**
   * The reply body of a send to a permitted address, or a failure for {@link ServiceError#from}.
   *
   * @param requestId names the request in the logs (the client's x-request-id, or one the bridge made)
   * @param cancelId  the bridge's own id to cancel a computation with (see {@link #cancellable}), else null
   */
  Future<JsonObject> send(String address, Object body, String requestId, String cancelId) {
    if (Addresses.FIB_COMPUTE.equals(address)) {
      FibRequest request;
      try {
        request = FibRequest.fromJson(body, limits);
      } catch (ServiceError e) {
        return Future.failedFuture(e);
      }
      return fib.compute(request, requestId, cancelId);
    }
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(jobsTimeoutMs)
      .addHeader(Addresses.REQUEST_ID_HEADER, requestId);
    return vertx.eventBus().<JsonObject>request(address, body, delivery).map(Message::body);
  }

  /**
   * The error frame both bridges write for a failed request: {@code failureCode} is the status the failure means
   * everywhere (400, 403, 404, 499, 503, 504, 500), {@code address} the client's replyAddress.
   */
  static JsonObject failure(String address, String replyAddress, Throwable cause) {
    ServiceError error = ServiceError.from(cause);
    String type = cause instanceof ReplyException re ? re.failureType().name() : "RECIPIENT_FAILURE";
    return new JsonObject().put("type", "err").put("address", replyAddress).put("sourceAddress", address)
      .put("failureCode", error.status()).put("failureType", type).put("message", error.getMessage());
  }

  /**
   * The span of a client's send: a trace of its own, or the client's when its headers carry a {@code traceparent}.
   * Null when the node does not trace.
   */
  static Span span(String address, Object headers) {
    if (!Traces.active()) {
      return null;
    }
    Span span = Traces.startRequest("bridge " + address, headers instanceof JsonObject h ? h : null);
    if (span != null) {
      span.setAttribute("messaging.destination.name", address);
    }
    return span;
  }

  /**
   * A reply frame, success or failure, that names the send's trace in its {@code headers} ({@code traceparent}),
   * as event-bus replies carry headers; the span ends with it.
   */
  static JsonObject traced(JsonObject reply, Span span) {
    if (span != null) {
      reply.put("headers", new JsonObject().put(Traces.TRACEPARENT, Traces.traceparent(span)));
      if ("err".equals(reply.getString("type"))) {
        Traces.fail(span, reply.getString("message"));
      } else {
        span.end();
      }
    }
    return reply;
  }
}
