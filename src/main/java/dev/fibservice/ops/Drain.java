package dev.fibservice.ops;

import dev.fibservice.config.Settings;
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

  /**
   * How long a server may take to shut down: the grace period, plus time to write the 503s the gateways
   * send at its end to what still runs.
   */
  public static long serverShutdownMs(Settings settings) {
    return settings.getInt(Settings.SHUTDOWN_GRACE_MS) + 2_000L;
  }

  public boolean draining() {
    return draining;
  }

  public void start() {
    draining = true;
  }
}
