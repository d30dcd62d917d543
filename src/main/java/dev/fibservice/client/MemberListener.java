package dev.fibservice.client;

/** What {@link Members} tells its owner, for the logs; called on the context of the {@link Members}. */
public interface MemberListener {

  /** A member changed state; {@code reason} says why, in words. */
  default void stateChanged(String id, String name, MemberState from, MemberState to, String reason) {
  }

  /**
   * A joining member did not answer its first ping (no certificate from the cluster's CA, or not reachable at all):
   * said once per member, until it answers.
   */
  default void silent(String id, String name, Throwable cause) {
  }
}
