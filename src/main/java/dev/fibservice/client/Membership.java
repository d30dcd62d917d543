package dev.fibservice.client;

import java.util.Map;

/** Who is in the cluster and computes, as the cluster manager says: the input of {@link Members}. */
public interface Membership {

  /** The Vert.x node id of this JVM's own member. */
  String selfId();

  /** The computing members now (role worker or all), by Vert.x node id, each with a name for logs. */
  Map<String, String> computing();

  /** Calls the listener, on any thread, whenever members join or leave. */
  void onChange(Runnable listener);

  /** Stops calling the listener. */
  default void close() {
  }
}
