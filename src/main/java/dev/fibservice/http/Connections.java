package dev.fibservice.http;

import dev.fibservice.api.Text;
import dev.fibservice.net.ConnectionLimit;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Connection-level limits of one HTTP verticle instance: the node-wide cap on open connections (over
 * it, the next request gets 503 and the connection closes), and the header timeout: a connection that
 * has not delivered a request's headers within the timeout — a client trickling bytes, or one idling
 * between requests — is closed, so it holds neither a verticle nor memory for long. A connection's own failures
 * (bytes Vert.x cannot decode, a reset) are the client's: one DEBUG line, not Vert.x's ERROR line.
 */
final class Connections {

  private static final Logger log = LoggerFactory.getLogger(Connections.class);

  private static final class State {
    /** When this connection started waiting for request headers (ms), or 0 while a request is in progress. */
    long waitingSince;
    boolean overLimit;
    /** The connection's last failure: a request failing with it failed on the client's side. */
    Throwable failure;
  }

  private final Map<HttpConnection, State> states = new HashMap<>();
  private final ConnectionLimit limit;
  private final long headerTimeoutMs;
  private final Context context;

  /** @param limit the node's HTTP connections, shared by every HTTP instance */
  Connections(Vertx vertx, ConnectionLimit limit, long headerTimeoutMs) {
    this.limit = limit;
    this.context = vertx.getOrCreateContext();
    this.headerTimeoutMs = headerTimeoutMs;
    vertx.setPeriodic(Math.max(100, Math.min(1000, headerTimeoutMs / 4)), t -> sweep());
  }

  void opened(HttpConnection connection) {
    State state = new State();
    state.waitingSince = System.currentTimeMillis();
    state.overLimit = !limit.opened();
    states.put(connection, state);
    connection.exceptionHandler(e -> {
      state.failure = e;
      log.debug("HTTP connection from {} failed: {}", connection.remoteAddress(), Text.oneLine(e.getMessage()));
      // an answer already written (a 405 before the body broke off) leaves before Vert.x closes the connection
      flush(connection);
    });
    Runnable closed = () -> {
      if (states.remove(connection) != null) {
        limit.closed();
      }
    };
    connection.closeHandler(v -> closed.run());
    whenClosed(connection, closed);
  }

  /**
   * Runs {@code action} on this instance's context when the connection's channel closes, also after a WebSocket
   * upgrade, from which on Vert.x hands the channel to a connection object of its own: the HTTP connection (and the
   * response of the upgraded request) then never hear of the close.
   */
  void whenClosed(HttpConnection connection, Runnable action) {
    if (connection instanceof ConnectionBase base) {
      base.channel().closeFuture().addListener(f -> context.runOnContext(v -> action.run()));
    }
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

  /**
   * Whether a request failed on the client's side: its connection failed with this (Vert.x delivers a decoder failure
   * to the connection first, then to the request), or the client is gone.
   */
  boolean clientFault(HttpServerRequest request, Throwable failure) {
    if (request.response().closed()) {
      return true;
    }
    State state = states.get(request.connection());
    return state != null && state.failure != null && (state.failure == failure || state.failure.getCause() == failure);
  }

  /**
   * Sends what was written to the connection now. Vert.x flushes after the read at hand completes, but closes a
   * connection whose bytes it cannot decode within that read: without this, the answer to such a request is lost.
   * Reaches the Netty channel through Vert.x's {@code ConnectionBase}, as {@link Corked} does.
   */
  static void flush(HttpConnection connection) {
    if (connection instanceof ConnectionBase base && base.channel().isOpen()) {
      base.channel().flush();
    }
  }

  int open() {
    return limit.open();
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
