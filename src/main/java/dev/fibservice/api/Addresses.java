package dev.fibservice.api;

/** Every event-bus address fib-service uses. The public ones are a contract, documented in docs/clients.md. */
public final class Addresses {

  /** Public, request/reply: {"n":int,"algorithm":"doubling|iterative|recursive"} -> the result JSON. */
  public static final String FIB_COMPUTE = "fib.compute";
  /**
   * Public, publish: {"id":"cancel id"} cancels the computation whose request carried that {@link #CANCEL_ID_HEADER},
   * wherever it runs. Only JVM members publish here; the front ends cancel under ids they made themselves.
   */
  public static final String FIB_CANCEL = "fib.cancel";

  /** Public, request/reply: {"n":int,"algorithm":"..."} -> {"id":"...","status":"PENDING",...}. */
  public static final String JOBS_SUBMIT = "jobs.submit";
  /** Public, request/reply: {"id":"..."} -> the job's JSON. */
  public static final String JOBS_STATUS = "jobs.status";
  /**
   * Public, pushed to event-bus bridge clients that register it (not a bus address): once a second, this node's live
   * counters, as {@code GET /stats} has them, plus requests per second.
   */
  public static final String FIB_STATS = "fib.stats";
  /** Publish, {"id"} as a string: a job was cancelled; the runner computing it stops. */
  public static final String JOBS_CANCELLED = "jobs.cancelled";
  /** Publish, a job id: a job was submitted; idle runners look for work at once. */
  public static final String JOBS_WAKEUP = "jobs.wakeup";
  /** Node-local: the job runner hands claimed jobs to the job workers. */
  public static final String WORKER_JOBS = "fib.worker.jobs";

  /** Node-local: the gateway hands admitted cheap computations to the light-lane workers. */
  public static final String WORKER_LIGHT = "fib.worker.light";
  /** Node-local: the gateway hands admitted computations to the heavy-lane workers. */
  public static final String WORKER_HEAVY = "fib.worker.heavy";

  /** Node-local, publish: the shutdown grace period is over; gateways answer what still runs with 503. */
  public static final String GATEWAY_ABORT = "fib.gateway.abort";
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

  /**
   * Cluster-internal, request/reply, from 0.2.0: {"member":"id"} -> {"member":"front id"}: the same news as
   * {@link #MEMBER_LEAVING}, sent to each front on its own address, whose reply says it has seen it (it sends that
   * member nothing new); a front of 0.1.0 has no such address (NO_HANDLERS) and hears the publish alone.
   */
  public static String leavingOn(String frontId) {
    return MEMBER_LEAVING + "." + frontId;
  }

  /**
   * Cluster-internal, request/reply, no body -> {"member":"id"}: every member answers on its own address. A
   * front sends requests to a member only after it answered this over the event bus, which with TLS on
   * proves that it holds a certificate from the cluster's CA.
   */
  public static String pingOn(String memberId) {
    return "fib.cluster.ping." + memberId;
  }

  /** Event-bus header carrying the request id from the front to the worker, for the logs only. */
  public static final String REQUEST_ID_HEADER = "x-request-id";
  /** Event-bus header of a {@link #FIB_COMPUTE} request: the id that cancels it through {@link #FIB_CANCEL}. */
  public static final String CANCEL_ID_HEADER = "x-cancel-id";

  private Addresses() {
  }
}
