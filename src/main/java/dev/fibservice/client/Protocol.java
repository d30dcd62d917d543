package dev.fibservice.client;

/**
 * The names fib-service members use on the event bus and in Hazelcast, as far as a client needs them: the
 * addresses of one member's gateway and ping, the headers of a computation, and the member attributes that
 * say who computes. fib-service itself uses the same values (a test keeps the two in step).
 */
public final class Protocol {

  /** Public, request/reply: {"n":int,"algorithm":"..."} -> the result JSON, on any computing member. */
  public static final String FIB_COMPUTE = "fib.compute";
  /** Public, publish: {"id":"cancel id"} cancels the computation sent with that {@link #CANCEL_ID_HEADER}. */
  public static final String FIB_CANCEL = "fib.cancel";
  /** Event-bus header naming a request in the logs, front and worker. */
  public static final String REQUEST_ID_HEADER = "x-request-id";
  /** Event-bus header of a computation: the id that cancels it through {@link #FIB_CANCEL}. */
  public static final String CANCEL_ID_HEADER = "x-cancel-id";

  /** Set by vertx-hazelcast on every member: the Vert.x node id. */
  public static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";
  /** Set by fib-service before joining: the member's role (all, http, worker). */
  public static final String ROLE_ATTRIBUTE = "fib.role";
  /** Set by fib-service before joining: the member's node name. */
  public static final String NODE_ATTRIBUTE = "fib.node";
  /** Set by fib-service 0.2.0 and later before joining: the member's release (older members have none). */
  public static final String VERSION_ATTRIBUTE = "fib.version";

  private Protocol() {
  }

  /** The gateways of one computing member: the same body and reply as {@link #FIB_COMPUTE}. */
  public static String computeOn(String memberId) {
    return FIB_COMPUTE + ".member." + memberId;
  }

  /** Request/reply, no body -> {"member":"id"}: every member answers on its own address. */
  public static String pingOn(String memberId) {
    return "fib.cluster.ping." + memberId;
  }

  /** Whether a member of this role runs gateways and workers. */
  public static boolean computes(String role) {
    return "all".equals(role) || "worker".equals(role);
  }
}
