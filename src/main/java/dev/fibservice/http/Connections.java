package dev.fibservice.http;

import dev.fibservice.api.Text;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.net.HttpGuards;
import dev.fibservice.net.TimeoutSweep;
import dev.fibservice.net.Wire;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Connection-level limits of one HTTP verticle instance: the node-wide cap on open connections (over it, the next
 * request gets 503 and the connection closes), and the timeouts of nginx's model ({@link HttpGuards}): from a request's
 * first byte its headers must be in within http.headerTimeoutMs (a client trickling bytes is closed), and between
 * requests (or in one without traffic) a connection may stay http.idleTimeoutSeconds. A connection's own failures
 * (bytes Vert.x cannot decode, a reset) are the client's: one DEBUG line, not Vert.x's ERROR line.
 *
 * <p>An idle connection costs nothing here: what each one needs is kept by its guard in the channel pipeline, and
 * the sets below only hold the rare connections over the cap or failed.
 */
final class Connections implements HttpGuards.Listener {

  private static final Logger log = LoggerFactory.getLogger(Connections.class);

  private final ConnectionLimit limit;
  private final HttpGuards guards;
  private final Context context;
  /** Connections opened over the node's cap: their next request is refused. */
  private final Set<HttpConnection> overLimit = new HashSet<>();
  /** The last failure of each connection that failed and is not closed yet. */
  private final Map<HttpConnection, Throwable> failures = new HashMap<>();

  /**
   * Call from the verticle's start(): the sweep of the timeouts runs on its event loop.
   *
   * @param limit the node's HTTP connections, shared by every HTTP instance
   */
  Connections(Vertx vertx, ConnectionLimit limit, long headerTimeoutMs, long idleTimeoutMs) {
    this.limit = limit;
    this.context = vertx.getOrCreateContext();
    TimeoutSweep sweep = new TimeoutSweep(vertx, TimeoutSweep.tickFor(headerTimeoutMs, idleTimeoutMs));
    this.guards = new HttpGuards(sweep, headerTimeoutMs, idleTimeoutMs, this);
  }

  /** From the server's connection handler, before the connection's first read. */
  void opened(HttpConnection connection, HttpServerOptions options) {
    if (!limit.opened()) {
      overLimit.add(connection);
    }
    // half-closes, the HTTP/1.1 framing checks and the timeouts
    if (!Wire.guardHttp(connection, options, guards)) {
      // no guard, no timeouts (Wire has said why, once); the count at least stays right
      connection.closeHandler(v -> closed(connection));
    }
  }

  @Override
  public void failed(HttpConnection connection, Throwable failure) {
    failures.put(connection, failure);
    log.debug("HTTP connection from {} failed: {}", connection.remoteAddress(), Text.oneLine(failure.getMessage()));
  }

  @Override
  public void closed(HttpConnection connection) {
    limit.closed();
    overLimit.remove(connection);
    failures.remove(connection);
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

  /** A request's headers arrived; false when its connection is over the limit and must be refused. */
  boolean admitted(HttpServerRequest request) {
    return overLimit.isEmpty() || !overLimit.contains(request.connection());
  }

  /**
   * Whether a request failed on the client's side: its connection failed with this (the guard reports a connection's
   * failure before Vert.x passes it on to the request), or the client is gone.
   */
  boolean clientFault(HttpServerRequest request, Throwable failure) {
    if (request.response().closed()) {
      return true;
    }
    Throwable last = failures.get(request.connection());
    return last != null && (last == failure || last.getCause() == failure);
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
}
