package dev.fibservice.net;

import io.vertx.core.json.JsonObject;

/** An HTTP request refused while it was decoded: the status and the words of its answer. */
final class RejectedRequest extends RuntimeException {

  private final int status;
  private final JsonObject detail;

  RejectedRequest(int status, String message, JsonObject detail) {
    super(message, null, false, false);
    this.status = status;
    this.detail = detail;
  }

  int status() {
    return status;
  }

  /** The error body, as every error of the service: {"error": "...", "detail": {...}}. */
  JsonObject body() {
    return new JsonObject().put("error", getMessage()).put("detail", detail);
  }
}
