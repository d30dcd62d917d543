package dev.fibservice.ops;

import dev.fibservice.config.Settings;

/**
 * Whether this node is draining (SIGTERM received): readiness turns 503 at once, and new work is
 * refused while what is running finishes. One per node.
 */
public final class Drain {

  private volatile boolean draining;

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
