package dev.fibservice;

/** Every event-bus address fib-service uses. The public ones are a contract, documented in the README. */
public final class Addresses {

  /** Public, request/reply: {"n":int,"algorithm":"doubling|iterative|recursive"} -> the result JSON. */
  public static final String FIB_COMPUTE = "fib.compute";
  /** Public, publish: {"id":"request id"} cancels that computation wherever it runs. */
  public static final String FIB_CANCEL = "fib.cancel";

  /** Node-local: the gateway hands admitted cheap computations to the light-lane workers. */
  public static final String WORKER_LIGHT = "fib.worker.light";
  /** Node-local: the gateway hands admitted computations to the heavy-lane workers. */
  public static final String WORKER_HEAVY = "fib.worker.heavy";

  /**
   * Cluster-internal, request/reply, same body as {@link #FIB_COMPUTE}: the gateways of one worker member.
   * The fronts address members one by one so that they know where each request runs and can retry it
   * elsewhere when that member dies.
   */
  public static String computeOn(String memberId) {
    return FIB_COMPUTE + ".member." + memberId;
  }

  /** Cluster-internal, publish: {"member":"id"}: a worker member is leaving; fronts stop sending to it. */
  public static final String MEMBER_LEAVING = "fib.cluster.leaving";

  /** Event-bus header carrying the request id from the front to the worker (for logs and cancellation). */
  public static final String REQUEST_ID_HEADER = "x-request-id";

  private Addresses() {
  }
}
