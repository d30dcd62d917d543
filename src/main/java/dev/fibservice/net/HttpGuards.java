package dev.fibservice.net;

import io.vertx.core.http.HttpConnection;

/**
 * What the guards of one HTTP server instance's connections ({@link Wire#guardHttp}) share: the sweep that keeps their
 * time, the two timeouts, and who hears of their failures and closes.
 *
 * <ul>
 *   <li>the header timeout runs from a request's first byte until its headers are in: a client that trickles a
 *       request is closed however steadily it trickles;</li>
 *   <li>the idle timeout runs between requests (from the end of a response, or from the connection's start, to the
 *       next request's first byte) and during a request that has no traffic either way, as nginx's
 *       {@code keepalive_timeout}; a WebSocket has only this one.</li>
 * </ul>
 */
public final class HttpGuards {

  /** What the guards report, on the connection's event loop. */
  public interface Listener {
    /**
     * The connection failed on the client's side: bytes that cannot be decoded, a reset. Reported before Vert.x
     * hears of it, so a request failing with it can be told from one failing by our doing.
     */
    void failed(HttpConnection connection, Throwable failure);

    /** The connection closed (the guard is gone with it). */
    void closed(HttpConnection connection);
  }

  final TimeoutSweep sweep;
  final long headerTimeoutMs;
  final long idleTimeoutMs;
  final Listener listener;

  public HttpGuards(TimeoutSweep sweep, long headerTimeoutMs, long idleTimeoutMs, Listener listener) {
    this.sweep = sweep;
    this.headerTimeoutMs = headerTimeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.listener = listener;
  }
}
