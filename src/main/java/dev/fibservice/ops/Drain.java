package dev.fibservice.ops;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

/**
 * Whether this node is draining (SIGTERM received): readiness turns 503 at once, and new work is
 * refused while what is running finishes. One per Vert.x instance.
 */
public final class Drain implements Shareable {

  private volatile boolean draining;

  public static Drain of(Vertx vertx) {
    return (Drain) vertx.sharedData().getLocalMap("fib.drain").computeIfAbsent("drain", k -> new Drain());
  }

  public boolean draining() {
    return draining;
  }

  public void start() {
    draining = true;
  }
}
