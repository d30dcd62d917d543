package dev.fibservice.client;

import java.util.Locale;

/** Why a computation was sent again to another member. */
public enum RetryReason {
  /** The member computing it left the cluster (killed, stopped, removed after its silence). */
  MEMBER_LEFT,
  /** The member computing it stopped answering (see {@link MemberState#SUSPECTED}). */
  SUSPECTED,
  /** The member had no gateway registered (starting, leaving). */
  NO_HANDLERS,
  /** The member could not be reached at all (connection refused or closed). */
  UNREACHABLE,
  /** A light computation got no answer within the attempt timeout. */
  ATTEMPT_TIMEOUT;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
