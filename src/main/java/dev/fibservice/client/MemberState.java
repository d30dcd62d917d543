package dev.fibservice.client;

import java.util.Locale;

/** A computing member as one client sees it. Only {@link #ALIVE} members get requests. */
public enum MemberState {
  /** In the cluster, but has not answered a ping yet: starting, or without a certificate of the cluster's CA. */
  JOINING,
  /** Answers its pings: gets requests. */
  ALIVE,
  /**
   * Answered nothing for a while after a ping (partitioned, stopped, in a long GC pause, or gone): gets no new
   * request, and what it held is retried on live members; pinged on, and alive again at its first answer.
   */
  SUSPECTED,
  /** Announced its graceful leave: finishes what it has, gets nothing new. */
  LEAVING,
  /** Left the cluster (as the cluster manager says); kept a while for the record. */
  REMOVED;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
