package dev.fibservice.client;

/**
 * The timeouts and limits of a {@link FibClient} and its {@link Members}; the defaults are those of fib-service's
 * own fronts (whose cluster.* and fib.* keys set them).
 */
public final class FibClientOptions {

  private long pingIntervalMs = 500;
  private long suspectAfterMs = 1500;
  private long attemptTimeoutMs = 2000;
  private long requestTimeoutMs = 35_000;
  private int retries = 2;
  private int maxInFlightPerMember = 512;

  /** How often each computing member is pinged over the event bus (cluster.pingIntervalMs). */
  public long pingIntervalMs() {
    return pingIntervalMs;
  }

  public FibClientOptions pingIntervalMs(long millis) {
    this.pingIntervalMs = positive("pingIntervalMs", millis);
    return this;
  }

  /**
   * A member that answered nothing (neither a ping nor a computation) this long after a ping was sent is suspected:
   * it gets no new request, and what it holds is retried on a live member, until it answers again
   * (cluster.suspectAfterMs).
   */
  public long suspectAfterMs() {
    return suspectAfterMs;
  }

  public FibClientOptions suspectAfterMs(long millis) {
    this.suspectAfterMs = positive("suspectAfterMs", millis);
    return this;
  }

  /** How long one attempt of a light computation may take before it is retried elsewhere (fib.attemptTimeoutMs). */
  public long attemptTimeoutMs() {
    return attemptTimeoutMs;
  }

  public FibClientOptions attemptTimeoutMs(long millis) {
    this.attemptTimeoutMs = positive("attemptTimeoutMs", millis);
    return this;
  }

  /**
   * The event-bus timeout of a heavy computation and of the last attempt of any: a little above the service's
   * fib.timeoutMs, so that its 504 arrives first.
   */
  public long requestTimeoutMs() {
    return requestTimeoutMs;
  }

  public FibClientOptions requestTimeoutMs(long millis) {
    this.requestTimeoutMs = positive("requestTimeoutMs", millis);
    return this;
  }

  /** How many times one computation is sent again to another member (fib.retries). */
  public int retries() {
    return retries;
  }

  public FibClientOptions retries(int retries) {
    if (retries < 0) {
      throw new IllegalArgumentException("retries must be 0 or more, got " + retries);
    }
    this.retries = retries;
    return this;
  }

  /**
   * Computations this client may have waiting on one member (cluster.maxInFlightPerMember): a member that stopped
   * answering holds at most this many until it is suspected; beyond it the other members get the work.
   */
  public int maxInFlightPerMember() {
    return maxInFlightPerMember;
  }

  public FibClientOptions maxInFlightPerMember(int max) {
    this.maxInFlightPerMember = (int) positive("maxInFlightPerMember", max);
    return this;
  }

  private static long positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    return value;
  }
}
