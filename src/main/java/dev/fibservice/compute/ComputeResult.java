package dev.fibservice.compute;

import io.vertx.core.json.JsonObject;

/** What a worker computed: the exact decimal value and who computed it, how fast. */
public record ComputeResult(FibRequest request, String value, long computeMicros, String worker) {

  /** The public reply shape of {@code fib.compute} and {@code GET /fib/{n}}. */
  public JsonObject toJson() {
    return new JsonObject()
      .put("n", request.n())
      .put("algorithm", request.algorithm().wireName())
      .put("value", value)
      .put("digits", value.length())
      .put("computeMicros", computeMicros)
      .put("worker", worker);
  }
}
