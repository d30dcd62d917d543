package dev.fibservice.cluster;

import dev.fibservice.config.Settings;

/** What one member of the cluster runs. Without --cluster a node is always {@link #ALL}. */
public enum Role {
  /** Front ends, gateway and workers: a whole fib-service in one JVM. */
  ALL,
  /** HTTP, TCP and bridge front ends only: they send every computation to the worker members. */
  HTTP,
  /** The compute gateway and the Fibonacci workers only: no sockets of its own. */
  WORKER;

  public static Role of(Settings settings) {
    return Role.valueOf(settings.getString(Settings.CLUSTER_ROLE).toUpperCase(java.util.Locale.ROOT));
  }

  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Whether this member serves clients (HTTP, TCP, bridge). */
  public boolean fronts() {
    return this != WORKER;
  }

  /** Whether this member computes (gateway and workers). */
  public boolean computes() {
    return this != HTTP;
  }
}
