package dev.fibservice.client;

import java.util.Locale;

/** Why a computation was sent again to another member. */
public enum RetryReason {
  /** The member computing it left the cluster (killed, stopped, removed after its silence). */
  MEMBER_LEFT,
  /** The member computing it stopped answering (see {@link MemberState#SUSPECTED}). */
  SUSPECTED,
  /** The member had no gateway registered (starting, leaving), or its gateway discarded the message (leaving). */
  NO_HANDLERS,
  /** The member could not be reached at all (connection refused or closed). */
  UNREACHABLE,
  /** A light computation got no answer within the attempt timeout. */
  ATTEMPT_TIMEOUT,
  /**
   * The member announced its leave, then answered 503: it gave the computation back (it was still running at the end of
   * the member's shutdown.graceMs, or the member was no longer taking work).
   */
  HANDED_BACK;

  /**
   * The member was lost, not the attempt: nothing says the computation itself is at fault, so the move does not use
   * {@code fib.retries} (see {@link FibClient}).
   */
  public boolean isLoss() {
    return this == MEMBER_LEFT || this == SUSPECTED || this == NO_HANDLERS || this == HANDED_BACK;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
