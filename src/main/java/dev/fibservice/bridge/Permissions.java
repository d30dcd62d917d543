package dev.fibservice.bridge;

import dev.fibservice.api.Addresses;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What a client of an event-bus bridge may do: one table for the TCP bridge and the SockJS bridge alike, and the
 * table in docs/clients.md is made of the same rows (a test keeps them equal). Deny by default: anything not in it
 * is refused. Replies to a client's own requests are not addresses of their own: they always reach it.
 */
public final class Permissions {

  /** What a client does with an address. */
  public enum Kind {
    /** request/reply: the client sends with a replyAddress and gets one answer there. */
    SEND("send"),
    /** one way, no answer. */
    PUBLISH("publish"),
    /** the client registers a handler and receives what the node pushes there. */
    REGISTER("register");

    private final String word;

    Kind(String word) {
      this.word = word;
    }

    /** The frame type that does it: {@code send}, {@code publish}, {@code register}. */
    public String word() {
      return word;
    }
  }

  /**
   * One permitted operation.
   *
   * @param write whether it changes state: a page of a foreign origin may not do it (the origin rule of HTTP writes)
   * @param does  what it does, in the docs' words
   */
  public record Rule(String address, Kind kind, boolean write, String does) {

    /** This rule as a row of the permission table in docs/clients.md. */
    public String docRow() {
      return "| `" + address + "` | " + kind.word() + (write ? " (a write)" : "") + " | " + does + " |";
    }
  }

  /** The table, in the order of docs/clients.md. */
  public static final List<Rule> RULES = List.of(
    new Rule(Addresses.FIB_COMPUTE, Kind.SEND, false, "F(n): the body and reply of the event-bus contract, through"
      + " the front's compute client (validation, in-flight caps, deadline, failover in a cluster); errors carry"
      + " `failureCode` 400, 499, 503 or 504"),
    new Rule(Addresses.FIB_CANCEL, Kind.PUBLISH, false, "`{\"id\":\"<your x-request-id>\"}` cancels the requests"
      + " this same connection sent with that `x-request-id` header; another connection's are out of reach"),
    new Rule(Addresses.JOBS_SUBMIT, Kind.SEND, true, "submits a background job, as `POST /jobs`; 503 with the"
      + " database off or down; refused (403) on a SockJS socket opened by a page of a foreign origin"),
    new Rule(Addresses.JOBS_STATUS, Kind.SEND, false, "`{\"id\":\"..\"}`: the job, as `GET /jobs/{id}`; 404 unknown"
      + " id; 503 with the database off or down"),
    new Rule(Addresses.FIB_STATS, Kind.REGISTER, false, "once a second while registered: this node's live counters"
      + " (`GET /stats`) and `requestsPerSecond`; in a cluster the members and the computations each worker did"
      + " for this front"));

  private Permissions() {
  }

  /** The rule that lets a client do {@code kind} with {@code address}, or null: then it is refused. */
  public static Rule find(String address, Kind kind) {
    for (Rule rule : RULES) {
      if (rule.address().equals(address) && rule.kind() == kind) {
        return rule;
      }
    }
    return null;
  }

  /** The table in one line, for the start-up log: {@code send fib.compute, publish fib.cancel, ...}. */
  public static String summary() {
    return RULES.stream().map(r -> r.kind().word() + " " + r.address()).collect(Collectors.joining(", "));
  }
}
