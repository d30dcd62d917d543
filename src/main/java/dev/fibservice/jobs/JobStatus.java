package dev.fibservice.jobs;

import java.util.List;

/** The statuses of a job, as stored and shown. */
public final class JobStatus {

  /** Waiting for a runner: any runner, of any release, may take it. */
  public static final String PENDING = "PENDING";
  /** Waiting for its runAt; promoted to PENDING then (by a 0.3.0 runner: 0.2.0 runners never take it early). */
  public static final String SCHEDULED = "SCHEDULED";
  /** A failed attempt that may pass: waiting out its backoff, then PENDING again. */
  public static final String RETRY_WAIT = "RETRY_WAIT";
  public static final String RUNNING = "RUNNING";
  public static final String DONE = "DONE";
  /** Out of attempts, or failed for good (a dead letter): POST /jobs/{id}/retry runs it again. */
  public static final String FAILED = "FAILED";
  public static final String CANCELLED = "CANCELLED";

  /** Every status, in the order a job goes through them. */
  public static final List<String> NAMES = List.of(PENDING, SCHEDULED, RETRY_WAIT, RUNNING, DONE, FAILED, CANCELLED);

  private JobStatus() {
  }
}
