package dev.fibservice.api;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A failure with a status code that means the same over HTTP, TCP and the event bus: 400 bad input,
 * 404 missing, 503 overloaded or unavailable, 504 deadline passed, 500 unexpected. The message is
 * written for the person who sent the request.
 */
public final class ServiceError extends RuntimeException {

  public static final int BAD_REQUEST = 400;
  public static final int NOT_FOUND = 404;
  public static final int INTERNAL = 500;
  public static final int UNAVAILABLE = 503;
  public static final int TIMEOUT = 504;

  private final int status;
  private final JsonObject detail;

  public ServiceError(int status, String message, JsonObject detail) {
    super(message, null, false, false);
    this.status = status;
    this.detail = detail;
  }

  public static ServiceError badRequest(String message, JsonObject detail) {
    return new ServiceError(BAD_REQUEST, message, detail);
  }

  public int status() {
    return status;
  }

  /** Machine-readable facts about the problem (the parameter, the limit, ...), or null. */
  public JsonObject detail() {
    return detail;
  }

  /**
   * Maps any failure of an event-bus request to a ServiceError: a worker's {@code fail(code, text)}
   * keeps its code; no consumer is 503; the bus timing out is 504; anything else is 500.
   */
  public static ServiceError from(Throwable failure) {
    if (failure instanceof ServiceError e) {
      return e;
    }
    if (failure instanceof ReplyException re) {
      ReplyFailure kind = re.failureType();
      if (kind == ReplyFailure.NO_HANDLERS) {
        return new ServiceError(UNAVAILABLE, "no Fibonacci worker is available right now; try again shortly", null);
      }
      if (kind == ReplyFailure.TIMEOUT) {
        return new ServiceError(TIMEOUT, "the computation did not answer before its deadline", null);
      }
      int code = re.failureCode();
      if (code >= 400 && code < 600) {
        return new ServiceError(code, re.getMessage(), null);
      }
    }
    return new ServiceError(INTERNAL, "internal error: " + failure, null);
  }
}
