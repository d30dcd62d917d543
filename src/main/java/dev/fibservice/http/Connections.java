package dev.fibservice.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connection-level limits of one HTTP verticle instance: the node-wide cap on open connections (over
 * it, the next request gets 503 and the connection closes), and the header timeout: a connection that
 * has not delivered a request's headers within the timeout — a client trickling bytes, or one idling
 * between requests — is closed, so it holds neither a verticle nor memory for long.
 */
final class Connections {

  /** The node-wide count, shared by every HTTP instance. */
  static final class Count implements Shareable {
    final AtomicInteger open = new AtomicInteger();
  }

  private static final class State {
    /** When this connection started waiting for request headers (ms), or 0 while a request is in progress. */
    long waitingSince;
    boolean overLimit;
  }

  private final Map<HttpConnection, State> states = new HashMap<>();
  private final Count count;
  private final int max;
  private final long headerTimeoutMs;

  Connections(Vertx vertx, int max, long headerTimeoutMs) {
    this.count = (Count) vertx.sharedData().getLocalMap("fib.http.connections").computeIfAbsent("count", k -> new Count());
    this.max = max;
    this.headerTimeoutMs = headerTimeoutMs;
    vertx.setPeriodic(Math.max(100, Math.min(1000, headerTimeoutMs / 4)), t -> sweep());
  }

  void opened(HttpConnection connection) {
    State state = new State();
    state.waitingSince = System.currentTimeMillis();
    state.overLimit = count.open.incrementAndGet() > max;
    states.put(connection, state);
    connection.closeHandler(v -> {
      states.remove(connection);
      count.open.decrementAndGet();
    });
  }

  /** A request's headers arrived; false when the connection is over the limit and must be refused. */
  boolean requestStarted(HttpServerRequest request) {
    State state = states.get(request.connection());
    if (state == null) {
      return true;
    }
    state.waitingSince = 0;
    return !state.overLimit;
  }

  /** The response is out: the connection waits for the next request's headers again. */
  void requestEnded(HttpServerRequest request) {
    State state = states.get(request.connection());
    if (state != null) {
      state.waitingSince = System.currentTimeMillis();
    }
  }

  int open() {
    return count.open.get();
  }

  private void sweep() {
    long deadline = System.currentTimeMillis() - headerTimeoutMs;
    List<HttpConnection> late = new ArrayList<>();
    states.forEach((connection, state) -> {
      if (state.waitingSince != 0 && state.waitingSince < deadline) {
        late.add(connection);
      }
    });
    late.forEach(HttpConnection::close);
  }
}
