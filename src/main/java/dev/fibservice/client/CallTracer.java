package dev.fibservice.client;

import io.vertx.core.json.JsonObject;

import java.util.function.BiConsumer;

/**
 * What a {@link FibClient} tells about each call and its attempts, for tracing: fib-service's fronts make spans of it
 * (the call, the member chosen for each attempt, why an attempt was given up and retried). Handles are the tracer's
 * own objects; a null handle means "not traced", and then the client calls nothing more for that call. {@link #NONE}
 * traces nothing and costs nothing. Called on the client's event loop, except {@link #callStarted} (the caller's).
 */
public interface CallTracer {

  /** Traces nothing. */
  CallTracer NONE = new CallTracer() {
  };

  /** A call starts, on the caller's thread (its current trace is the parent): its handle, or null. */
  default Object callStarted(JsonObject request, boolean light) {
    return null;
  }

  /**
   * An attempt of a traced call is sent: its handle. {@code retryOf} is why the attempt before it was given up, or
   * null for the first.
   */
  default Object attemptStarted(Object call, String member, String memberName, int number, RetryReason retryOf) {
    return null;
  }

  /** The headers that make the member's work part of the attempt's trace (W3C traceparent), added to its message. */
  default void inject(Object attempt, BiConsumer<String, String> headers) {
  }

  /**
   * An attempt ended: answered (failure null, retry null), failed for good (retry null), or given up and sent again
   * to another member ({@code retry} says why; failure, when there is one, is what the member's side said).
   */
  default void attemptEnded(Object attempt, Throwable failure, RetryReason retry) {
  }

  /** The call ended: answered (failure null) or failed. */
  default void callEnded(Object call, Throwable failure) {
  }
}
