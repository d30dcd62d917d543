package dev.fibservice.cluster;

import java.util.Set;
import java.util.function.Consumer;

/** The cluster members a front may send computations to, as the compute client sees them ({@link ClusterView}). */
public interface ComputeMembers {

  /** The next member to try, preferring those not in {@code tried}; null when no computing member is available. */
  String pick(Set<String> tried);

  /** Skips a member for a while: it is leaving, or it has no gateway registered yet. */
  void avoid(String memberId, long millis);

  /** Calls the listener, on a thread of the membership's own, with the id of every member that leaves, for good. */
  void onMemberLeft(Consumer<String> listener);
}
