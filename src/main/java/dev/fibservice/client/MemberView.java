package dev.fibservice.client;

/**
 * One member as {@link Members#snapshot()} shows it.
 *
 * @param id          the Vert.x node id
 * @param name        its name for people (node name and address)
 * @param state       its state as this client sees it
 * @param reason      why it is in that state, in words
 * @param forMs       how long it has been in that state
 * @param inFlight    computations of this client waiting on it now
 * @param retriedAway computations this client took from it and sent elsewhere, since it first joined
 * @param suspicions  how many times it was suspected
 */
public record MemberView(String id, String name, MemberState state, String reason, long forMs, int inFlight,
                         long retriedAway, int suspicions) {
}
