package dev.fibservice.net;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node-wide cap on the open connections of one server (HTTP, TCP or the bridge), shared by all its instances,
 * whatever event loop they run on.
 */
public final class ConnectionLimit {

  private final AtomicInteger open = new AtomicInteger();
  private final int max;

  /** @param max connections that may be open at once (http.maxConnections, tcp.maxConnections, ...) */
  public ConnectionLimit(int max) {
    this.max = max;
  }

  /**
   * Counts a new connection: false when that makes more than the cap. Either way it counts until {@link #closed()};
   * a server that refuses it at once calls that at once.
   */
  public boolean opened() {
    return open.incrementAndGet() <= max;
  }

  public void closed() {
    open.decrementAndGet();
  }

  /** Connections open now. */
  public int open() {
    return open.get();
  }

  public int max() {
    return max;
  }
}
