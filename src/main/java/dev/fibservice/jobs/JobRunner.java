package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.compute.Computation;
import dev.fibservice.compute.ComputeResult;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import dev.fibservice.math.Algorithm;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs background jobs: claims PENDING jobs from the database, most urgent first, with {@code SELECT ... FOR UPDATE SKIP
 * LOCKED} (runners never wait on one another's claims), computes them on the job workers (a pool of their own, so jobs
 * never take the interactive workers), stores the digits in chunks and marks them DONE. Each attempt is a row of
 * job_attempts: its runner, start, end, outcome and error.
 *
 * <p>While a job runs, its lease is renewed; a cancelled job's computation is stopped; a job past its deadline
 * (its timeoutMs, else jobs.timeoutMs) is stopped too. A failure that may pass (a timeout, a runner or its database
 * lost) is retried after a backoff (exponential with jitter, bounded) while the job has attempts left, then the job is
 * FAILED, a dead letter; a failure that will not pass (bad input) is FAILED at once. A runner that cannot renew a
 * lease for as long as the lease lasts (it lost its database) gives that job up, since another runner may take it by
 * then. A runner that stops gives its jobs back at once (PENDING again, not counted as a failure) and wakes the other
 * runners.
 *
 * <p>Besides, every runner keeps the queue: it promotes SCHEDULED and RETRY_WAIT jobs whose time has come to PENDING
 * (0.2.0 runners, which claim only PENDING, never start them early), marks the attempts whose lease ran out (LOST),
 * raises the urgency of jobs that waited longer than jobs.priorityAgingMs, and deletes finished jobs past their
 * retention, a few at a time.
 */
public final class JobRunner extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
  /** How many due jobs one promotion moves, and how many overdue ones one look finds. */
  private static final int UPKEEP_ROWS = 500;
  /** How often the retention sweep runs, at most. */
  private static final long RETENTION_EVERY_MS = 10_000;
  /** How often the progress of long jobs is published. */
  private static final long PROGRESS_EVERY_MS = 1000;

  private final Settings settings;
  private final Metrics metrics;
  private final Database database;
  private final Map<String, Claim> running = new HashMap<>();
  /** This runner's identity in the jobs table: a new one per start, so a restarted node never trusts old leases. */
  private final String owner;
  private Pool pool;
  private int capacity;
  private long leaseMs;
  private long leaseMicros;
  private long timeoutMs;
  private int queryTimeoutMs;
  private long agingMicros;
  private long backoffMs;
  private long maxBackoffMs;
  private int defaultAttempts;
  private long keepDoneMicros;
  private long keepFailedMicros;
  private int deleteBatch;
  private boolean polling;
  private boolean upkeeping;
  private boolean stopped;
  private long lastRetention;
  /** The timer for the next SCHEDULED or RETRY_WAIT job that falls due, or -1. */
  private long dueTimer = -1;
  /** Why the last poll could not look at the jobs table, or null: logged when it changes, not at every poll. */
  private String trouble;
  /** Whether a poll ever succeeded: until then, a database still starting is no news. */
  private boolean polled;

  /** A job this runner computes, and when its lease was last known to hold. */
  private static final class Claim {
    final Computation computation;
    /** Which claim of the job this is (its attempts column): results and leases apply to this claim only. */
    final int attempt;
    /** Failed attempts of its series before this one, and how many it may take in all. */
    final int failures;
    final int maxAttempts;
    final long startedNanos = System.nanoTime();
    long renewedAt = startedNanos;
    /** Its lease ran out while the database was away, or the runner stops: whatever the computation gives is dropped. */
    boolean givenUp;
    /** Its deadline passed: the computation was stopped for that. */
    boolean timedOut;
    /** Computed, its digits being written: a store that finds the job taken over keeps nothing anyway. */
    boolean storing;
    /** Completed once the claim's outcome is recorded or given up: a stopping runner waits for the stores it lets finish. */
    final Promise<Void> ended = Promise.promise();
    double progressSent;

    Claim(Computation computation, int attempt, int failures, int maxAttempts) {
      this.computation = computation;
      this.attempt = attempt;
      this.failures = failures;
      this.maxAttempts = maxAttempts;
    }
  }

  /** A store found the job cancelled, or claimed again by another runner: it rolls back, and that is no failure. */
  private static final class NoLongerOurs extends RuntimeException {
    NoLongerOurs() {
      super("the job is no longer this runner's", null, false, false);
    }
  }

  /** @param nodeName names this runner in the jobs table, with a random part of its own */
  public JobRunner(Settings settings, String nodeName, Metrics metrics, Database database) {
    this.settings = settings;
    this.metrics = metrics;
    this.database = database;
    this.owner = nodeName + "/" + UUID.randomUUID();
  }

  @Override
  public Future<?> start() {
    pool = database.pool(vertx);
    capacity = settings.getInt(Settings.JOBS_WORKERS);
    leaseMs = settings.getInt(Settings.JOBS_LEASE_MS);
    leaseMicros = leaseMs * 1000L;
    timeoutMs = settings.getInt(Settings.JOBS_TIMEOUT_MS);
    queryTimeoutMs = settings.getInt(Settings.MYSQL_QUERY_TIMEOUT_MS);
    agingMicros = settings.getLong(Settings.JOBS_PRIORITY_AGING_MS) * 1000L;
    backoffMs = settings.getLong(Settings.JOBS_BACKOFF_MS);
    maxBackoffMs = settings.getLong(Settings.JOBS_MAX_BACKOFF_MS);
    defaultAttempts = settings.getInt(Settings.JOBS_ATTEMPTS);
    keepDoneMicros = settings.getLong(Settings.JOBS_KEEP_DONE_MS) * 1000L;
    keepFailedMicros = settings.getLong(Settings.JOBS_KEEP_FAILED_MS) * 1000L;
    deleteBatch = settings.getInt(Settings.JOBS_DELETE_BATCH);
    long pollMs = settings.getInt(Settings.JOBS_POLL_MS);
    vertx.setPeriodic(pollMs, t -> poll());
    vertx.setPeriodic(pollMs, t -> upkeep());
    vertx.setPeriodic(Math.max(100, leaseMs / 3), t -> renewLeases());
    vertx.setPeriodic(PROGRESS_EVERY_MS, t -> publishProgress());
    if (metrics.enabled()) {
      vertx.setPeriodic(5000, t -> countJobs());
    }
    return Future.join(
      vertx.eventBus().consumer(Addresses.JOBS_WAKEUP, m -> poll()).completion(),
      vertx.eventBus().<Object>consumer(Addresses.JOBS_CANCELLED, m -> {
        Claim claim = running.get(String.valueOf(m.body()));
        if (claim != null) {
          claim.computation.cancel();
        }
      }).completion());
  }

  /**
   * Stops computing and gives every job it holds back (PENDING, for any runner), each statement bounded by
   * mysql.queryTimeoutMs; one it could not give back (the database away) runs again once its lease runs out. A job
   * already storing its digits finishes that store (one transaction, bounded) rather than be given back.
   */
  @Override
  public Future<?> stop() {
    stopped = true;
    List<Future<Boolean>> given = new ArrayList<>();
    List<Future<Void>> stores = new ArrayList<>();
    for (Map.Entry<String, Claim> entry : running.entrySet()) {
      Claim claim = entry.getValue();
      if (claim.storing) {
        // the store runs on: the database pool must outlive it (closing it first left the job RUNNING until its lease)
        stores.add(claim.ended.future());
        continue;
      }
      claim.givenUp = true;
      claim.computation.cancel();
      String id = entry.getKey();
      given.add(database.bounded(pool.preparedQuery(Sql.JOB_GIVE_BACK).execute(Tuple.of(id, owner, claim.attempt)))
        .compose(rows -> {
          if (rows.rowCount() != 1) {
            return Future.succeededFuture(false);
          }
          // the other runners look at once, as for a new job (the same message: its id)
          vertx.eventBus().publish(Addresses.JOBS_WAKEUP, id);
          JobEvents.status(vertx, id, JobStatus.PENDING, new JsonObject().put("attempt", claim.attempt)
            .put("outcome", "GIVEN_BACK"));
          metrics.jobAttempt("GIVEN_BACK");
          return attemptEnded(id, claim.attempt, "GIVEN_BACK", "its runner stopped and gave it back").map(true);
        })
        .otherwise(e -> {
          log.warn("job {}: could not give it back ({}); it runs again once its lease ({} ms) runs out", id,
            Database.failure(e).getMessage(), leaseMs);
          return false;
        }));
    }
    Future<Void> stored = Future.join(stores).mapEmpty();
    if (given.isEmpty()) {
      return stored;
    }
    return Future.join(given).transform(ar -> {
      long back = given.stream().filter(f -> Boolean.TRUE.equals(f.result())).count();
      log.info("job runner stopping: gave {} of {} running jobs back (PENDING) for another runner", back, given.size());
      return stored;
    });
  }

  /** A row of the claim's SELECT: what a runner needs to run the job. */
  private record Claimed(String id, FibRequest request, int attempt, int failures, int maxAttempts, Integer timeoutMs,
                         String traceparent) {
  }

  /**
   * Claims as many runnable jobs as there are free job workers, in one transaction: the head of the queue, locked
   * with SKIP LOCKED, set RUNNING for this runner, and an attempt row for each.
   */
  private void poll() {
    if (polling || stopped || running.size() >= capacity) {
      return;
    }
    ServiceError down = database.check();
    if (down != null) {
      troubled(down.getMessage());
      return;
    }
    polling = true;
    int free = capacity - running.size();
    // every call bounded: a poll that never completed would stop this runner for good
    database.bounded(pool.withTransaction(conn -> conn.preparedQuery(Sql.JOB_QUEUE_HEAD).execute(Tuple.of(free))
        .compose(rows -> {
          List<Claimed> claimed = new ArrayList<>();
          Tuple ids = Tuple.tuple();
          for (Row row : rows) {
            Integer max = row.getInteger("max_attempts");
            claimed.add(new Claimed(row.getString("id"), new FibRequest(row.getInteger("n"),
              Algorithm.fromWireName(row.getString("algorithm"))), row.getInteger("attempts") + 1,
              row.getInteger("failures"), max == null ? defaultAttempts : max, row.getInteger("timeout_ms"),
              row.getString("traceparent")));
            ids.addValue(row.getString("id"));
          }
          if (claimed.isEmpty()) {
            return Future.succeededFuture(claimed);
          }
          Tuple claim = Tuple.of(owner, leaseMicros);
          Tuple attempts = Tuple.of(owner);
          for (int i = 0; i < ids.size(); i++) {
            claim.addValue(ids.getValue(i));
            attempts.addValue(ids.getValue(i));
          }
          return conn.preparedQuery(Sql.jobClaim(claimed.size())).execute(claim)
            .compose(v -> conn.preparedQuery(Sql.jobAttemptsStarted(claimed.size())).execute(attempts))
            .map(claimed);
        })))
      .onComplete(ar -> {
        polling = false;
        if (ar.failed()) {
          if (Database.deadlocked(ar.cause())) {
            // the claim's locks crossed another statement's (a promotion, a cancel): it was rolled back; look again
            vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(20), t -> poll());
            return;
          }
          troubled(Database.failure(ar.cause()).getMessage());
          return;
        }
        if (trouble != null && polled) {
          log.info("job runner: the database is back; taking jobs again");
        }
        trouble = null;
        polled = true;
        if (stopped) {
          // claimed while stopping: given back at once
          ar.result().forEach(c -> pool.preparedQuery(Sql.JOB_GIVE_BACK).execute(Tuple.of(c.id(), owner, c.attempt())));
          return;
        }
        ar.result().forEach(this::run);
        if (!ar.result().isEmpty()) {
          poll();
        }
      });
  }

  private void troubled(String why) {
    if (trouble == null && polled) {
      log.warn("job runner: cannot look for jobs ({}); they wait until the database is back", why);
    }
    trouble = why;
  }

  /**
   * A claimed job runs in its submitter's trace (with tracing on): a child of the span that submitted it, or a trace
   * of its own when it carries none.
   */
  private void run(Claimed job) {
    Traces.inTraceOf(job.traceparent(), "fib.job", span -> run(job, span));
  }

  private void run(Claimed job, Span span) {
    String id = job.id();
    FibRequest request = job.request();
    Computation computation = new Computation(id, request);
    Claim claim = new Claim(computation, job.attempt(), job.failures(), job.maxAttempts());
    running.put(id, claim);
    long deadline = job.timeoutMs() == null ? timeoutMs : Math.min(timeoutMs, job.timeoutMs());
    log.info("job {} F({}) {} running (attempt {})", id, request.n(), request.algorithm().wireName(), claim.attempt);
    JobEvents.status(vertx, id, JobStatus.RUNNING, new JsonObject().put("attempt", claim.attempt).put("runner", owner));
    long timer = vertx.setTimer(deadline, t -> {
      claim.timedOut = true;
      computation.cancel();
    });
    DeliveryOptions delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(deadline + 60_000);
    if (span != null) {
      span.setAttribute("fib.job.id", id);
      span.setAttribute("fib.job.attempt", claim.attempt);
      span.setAttribute("fib.n", request.n());
      span.setAttribute("fib.algorithm", request.algorithm().wireName());
      computation.traced(Traces.capture(span), null);
      delivery.setTracingPolicy(TracingPolicy.IGNORE);
    }
    vertx.eventBus().<ComputeResult>request(Addresses.WORKER_JOBS, computation, delivery)
      .transform(computed -> {
        if (claim.givenUp) {
          return Future.<Void>succeededFuture();
        }
        if (computed.failed()) {
          return failed(id, claim, computed.cause(), deadline);
        }
        claim.storing = true;
        return store(id, claim, computed.result().body()).recover(e -> {
          ServiceError error = Database.failure(e);
          // a database away or too slow: nothing is recorded now; its lease runs out and it is retried (LOST); a
          // statement refused is final
          return error.status() == ServiceError.UNAVAILABLE ? Future.failedFuture(error)
            : finish(id, claim, "ERROR", error.getMessage(), false);
        });
      })
      .onComplete(ar -> {
        vertx.cancelTimer(timer);
        running.remove(id, claim);
        claim.ended.complete();
        if (ar.failed()) {
          log.warn("job {}: could not record its outcome ({}); its lease will run out and it will run again", id,
            ar.cause().getMessage());
          Traces.fail(span, ar.cause().getMessage());
        } else {
          Traces.end(span);
        }
        if (span != null) {
          context.runOnContext(v -> poll()); // out of the job's trace: the next poll is no part of it
        } else {
          poll();
        }
      });
  }

  /**
   * Stores the digits in chunks and marks the job DONE, and its attempt, in one transaction (only if it is still
   * ours). Bounded, mysql.queryTimeoutMs for each statement it runs: a store that never ended would keep the job
   * RUNNING, its lease renewed, for good.
   */
  private Future<Void> store(String id, Claim claim, ComputeResult result) {
    String digits = result.value();
    int statements = digits.length() / Jobs.CHUNK + 5;
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.JOB_CHUNKS_DELETE).execute(Tuple.of(id))
      .compose(v -> insertChunks(conn, id, digits, 0))
      .compose(v -> conn.preparedQuery(Sql.JOB_DONE).execute(Tuple.of(digits.length(), id, owner, claim.attempt)))
      .compose(rows -> rows.rowCount() == 1
        ? conn.preparedQuery(Sql.JOB_ATTEMPT_ENDED).execute(Tuple.of("DONE", null, id, claim.attempt)).<Void>mapEmpty()
        // cancelled, or taken over, while computing: keep nothing
        : Future.failedFuture(new NoLongerOurs()))
    ).timeout((long) queryTimeoutMs * statements, TimeUnit.MILLISECONDS)
      .onSuccess(v -> {
        long micros = (System.nanoTime() - claim.startedNanos) / 1000;
        log.info("job {} DONE: {} digits in {} ms", id, digits.length(), result.computeMicros() / 1000);
        metrics.jobAttempt("DONE");
        metrics.jobRun(micros);
        JobEvents.status(vertx, id, JobStatus.DONE, new JsonObject().put("attempt", claim.attempt)
          .put("digits", digits.length()));
      })
      .recover(e -> {
        if (e instanceof NoLongerOurs) {
          // its attempt was closed by whoever took it (a cancel, the upkeep); one left open is closed here
          return attemptEnded(id, claim.attempt, "CANCELLED", "cancelled, or taken over, while it computed");
        }
        return Future.failedFuture(e);
      });
  }

  private Future<Void> insertChunks(SqlConnection conn, String id, String digits, int seq) {
    int from = seq * Jobs.CHUNK;
    if (from >= digits.length() && seq > 0) {
      return Future.succeededFuture();
    }
    String chunk = digits.substring(from, Math.min(digits.length(), from + Jobs.CHUNK));
    return conn.preparedQuery(Sql.JOB_CHUNK_INSERT).execute(Tuple.of(id, seq, chunk))
      .compose(v -> insertChunks(conn, id, digits, seq + 1));
  }

  /** The computation failed: cancelled (the job is CANCELLED already), past its deadline, or an error. */
  private Future<Void> failed(String id, Claim claim, Throwable e, long deadline) {
    if (stopped) {
      return Future.succeededFuture();
    }
    if (claim.timedOut) {
      return finish(id, claim, "TIMEOUT", "past its deadline of " + deadline + " ms (its timeoutMs, at most"
        + " jobs.timeoutMs)", true);
    }
    if (claim.computation.cancelled()) {
      metrics.jobAttempt("CANCELLED");
      return attemptEnded(id, claim.attempt, "CANCELLED", null);
    }
    ServiceError error = ServiceError.from(e);
    // a worker that was busy or away may be there next time; bad input never passes
    boolean mayPass = error.status() == ServiceError.UNAVAILABLE || error.status() == ServiceError.TIMEOUT;
    return finish(id, claim, mayPass ? "ERROR" : "FAILED", error.getMessage(), mayPass);
  }

  /**
   * Ends the attempt with {@code outcome}: a failure that may pass with attempts left waits out its backoff in
   * RETRY_WAIT; any other is FAILED. Only the claim's own row changes (a cancelled job stays CANCELLED).
   */
  private Future<Void> finish(String id, Claim claim, String outcome, String error, boolean mayPass) {
    return database.bounded(finishAttempt(vertx, pool, id, owner, claim.attempt, claim.failures, claim.maxAttempts,
        outcome, error, mayPass, backoffMs, maxBackoffMs))
      .map(status -> {
        metrics.jobAttempt(outcome);
        if (JobStatus.FAILED.equals(status)) {
          metrics.deadLetter();
        }
        return null;
      });
  }

  /**
   * The end of a failed attempt, whoever finds it (its runner, or the upkeep of any runner for one whose lease ran
   * out): the job RETRY_WAIT after a backoff while attempts are left and the failure may pass, else FAILED; the attempt
   * row closed with the outcome. Completes with the job's new status, or null when the claim was no longer current
   * (cancelled, or taken over).
   */
  static Future<String> finishAttempt(io.vertx.core.Vertx vertx, Pool pool, String id, String owner, int attempt,
                                      int failures, int maxAttempts, String outcome, String error, boolean mayPass,
                                      long backoffMs, long maxBackoffMs) {
    String why = error == null ? null : Text.abbreviate(error, 900);
    boolean again = mayPass && failures + 1 < maxAttempts;
    long backoff = again ? backoff(failures + 1, backoffMs, maxBackoffMs) : 0;
    String shown = again ? "attempt " + attempt + " " + outcome.toLowerCase(java.util.Locale.ROOT) + ": " + why
      : mayPass ? "out of attempts (" + maxAttempts + "): the last one " + outcome.toLowerCase(java.util.Locale.ROOT)
      + ": " + why : why;
    Future<io.vertx.sqlclient.RowSet<Row>> update = again
      ? pool.preparedQuery(Sql.JOB_RETRY_LATER).execute(Tuple.of(Text.abbreviate(shown, 990), backoff * 1000L, id,
        owner, attempt))
      : pool.preparedQuery(Sql.JOB_FAILED_FINALLY).execute(Tuple.of(mayPass ? 1 : 0, Text.abbreviate(shown, 990), id,
        owner, attempt));
    return update.compose(rows -> {
      String status = rows.rowCount() == 1 ? (again ? JobStatus.RETRY_WAIT : JobStatus.FAILED) : null;
      return pool.preparedQuery(Sql.JOB_ATTEMPT_ENDED).execute(Tuple.of(outcome, why, id, attempt)).map(v -> {
        if (status != null) {
          log.info("job {} attempt {} {}: {}", id, attempt, outcome, again ? "retried in " + backoff + " ms" : "FAILED");
          JobEvents.status(vertx, id, status, new JsonObject().put("attempt", attempt).put("outcome", outcome)
            .put("error", why).put("retryInMs", again ? backoff : null));
        }
        return status;
      });
    });
  }

  /**
   * The wait before the attempt after {@code failed} failed ones: base * 2^(failed - 1), at most the bound, then a
   * random share of it from a half to all of it ("equal jitter"), so that jobs that failed together do not all come
   * back together.
   */
  static long backoff(int failed, long base, long bound) {
    double full = Math.min((double) bound, base * Math.pow(2, Math.max(0, failed - 1)));
    return (long) (full / 2 + ThreadLocalRandom.current().nextDouble() * full / 2);
  }

  private Future<Void> attemptEnded(String id, int attempt, String outcome, String error) {
    return database.bounded(pool.preparedQuery(Sql.JOB_ATTEMPT_ENDED).execute(Tuple.of(outcome, error, id, attempt)))
      .mapEmpty();
  }

  /**
   * What every runner does besides running jobs, each step bounded and skipped while the database is away: promotes
   * due jobs, finds overdue attempts, ages long waits, and now and then deletes expired jobs.
   */
  private void upkeep() {
    if (upkeeping || stopped || database.check() != null) {
      return;
    }
    upkeeping = true;
    Future<Void> retention = Future.succeededFuture();
    long now = System.currentTimeMillis();
    // every 10 s, or more often where a job is kept less than 40 s
    long every = Math.min(RETENTION_EVERY_MS, Math.min(keepDoneMicros, keepFailedMicros) / 4000);
    if (now - lastRetention >= every) {
      lastRetention = now;
      retention = retention().mapEmpty();
    }
    Future.join(promote(), overdue(), age(), retention).onComplete(ar -> upkeeping = false);
  }

  /** SCHEDULED and RETRY_WAIT jobs whose time has come become PENDING; then a timer for the next one due. */
  private Future<Void> promote() {
    return database.bounded(pool.preparedQuery(Sql.JOBS_PROMOTE).execute(Tuple.of(UPKEEP_ROWS)))
      .compose(rows -> {
        if (rows.rowCount() > 0) {
          vertx.eventBus().publish(Addresses.JOBS_WAKEUP, "due");
        }
        return database.bounded(pool.preparedQuery(Sql.JOBS_NEXT_DUE_MS).execute());
      })
      .map(rows -> {
        Long inMs = rows.iterator().next().getLong(0);
        if (inMs != null && dueTimer == -1 && inMs < settings.getInt(Settings.JOBS_POLL_MS)) {
          // the next one falls due before the next upkeep: promote it then, not up to a poll later
          dueTimer = vertx.setTimer(Math.max(1, inMs + 1), t -> {
            dueTimer = -1;
            promote();
          });
        }
        return null;
      });
  }

  /** Attempts whose lease ran out (LOST) or whose own deadline passed on a runner that ignores it (TIMEOUT). */
  private Future<Void> overdue() {
    return database.bounded(pool.preparedQuery(Sql.JOBS_OVERDUE).execute(Tuple.of(leaseMs, UPKEEP_ROWS)))
      .compose(rows -> {
        List<Future<String>> ended = new ArrayList<>();
        for (Row row : rows) {
          String id = row.getString(0);
          if (running.containsKey(id)) {
            continue; // this runner's own: its renewals and timer decide
          }
          String outcome = row.getString(5);
          Integer max = row.getInteger(4);
          String why = "LOST".equals(outcome) ? "its runner " + row.getString(1) + " stopped renewing its lease"
            + " (jobs.leaseMs = " + leaseMs + " ms): the runner, or its database, was lost"
            : "past its own timeoutMs on runner " + row.getString(1);
          ended.add(database.bounded(finishAttempt(vertx, pool, id, row.getString(1), row.getInteger(2),
            row.getInteger(3), max == null ? defaultAttempts : max, outcome, why, true, backoffMs, maxBackoffMs))
            .onSuccess(status -> {
              if (status != null) {
                metrics.jobAttempt(outcome);
                if (JobStatus.FAILED.equals(status)) {
                  metrics.deadLetter();
                }
                // a runner that still computes it (one that ignores the job's own deadline) stops
                vertx.eventBus().publish(Addresses.JOBS_CANCELLED, id);
              }
            }));
        }
        return Future.join(ended).mapEmpty();
      });
  }

  /** Jobs that waited longer than jobs.priorityAgingMs go before every priority. */
  private Future<Void> age() {
    return database.bounded(pool.preparedQuery(Sql.JOBS_AGE).execute(Tuple.of(agingMicros))).mapEmpty();
  }

  /**
   * Deletes DONE jobs past jobs.keepDoneMs and FAILED and CANCELLED ones past jobs.keepFailedMs, with their chunks and
   * attempts: at most jobs.deleteBatch jobs per statement, by primary key, so that no delete holds many rows.
   */
  private Future<Integer> retention() {
    return expire(JobStatus.DONE, keepDoneMicros)
      .compose(done -> expire(JobStatus.FAILED, keepFailedMicros).map(failed -> done + failed))
      .compose(n -> expire(JobStatus.CANCELLED, keepFailedMicros).map(cancelled -> n + cancelled))
      .compose(n -> database.bounded(pool.preparedQuery(Sql.BATCHES_EMPTIED)
        .execute(Tuple.of(Math.min(keepDoneMicros, keepFailedMicros), deleteBatch))).map(n))
      .onSuccess(n -> {
        if (n > 0) {
          log.info("job retention: deleted {} finished jobs past jobs.keepDoneMs / jobs.keepFailedMs", n);
        }
      });
  }

  private Future<Integer> expire(String status, long keepMicros) {
    return database.bounded(pool.preparedQuery(Sql.JOBS_EXPIRED).execute(Tuple.of(status, keepMicros, keepMicros,
        deleteBatch)))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.succeededFuture(0);
        }
        Tuple ids = Tuple.tuple();
        rows.forEach(row -> ids.addValue(row.getString(0)));
        int n = ids.size();
        return database.bounded(pool.preparedQuery(Sql.jobChunksDeleted(n)).execute(ids))
          .compose(v -> database.bounded(pool.preparedQuery(Sql.jobAttemptsDeleted(n)).execute(ids)))
          .compose(v -> database.bounded(pool.preparedQuery(Sql.jobsDeleted(n)).execute(ids)))
          .map(deleted -> deleted.rowCount());
      });
  }

  /** The progress of jobs that have run for a second or more, when it moved. */
  private void publishProgress() {
    long now = System.nanoTime();
    running.forEach((id, claim) -> {
      double progress = claim.computation.cancellation().progress();
      if (now - claim.startedNanos >= PROGRESS_EVERY_MS * 1_000_000L && !claim.storing
        && progress > claim.progressSent) {
        claim.progressSent = progress;
        JobEvents.progress(vertx, id, claim.attempt, progress);
      }
    });
  }

  /** Refreshes the jobs-by-status gauges, the depth by status and priority, and the wait of the oldest job. */
  private void countJobs() {
    if (database.check() != null) {
      return;
    }
    database.bounded(pool.preparedQuery(Sql.JOB_COUNT_BY_STATUS).execute()).onSuccess(rows -> {
      Map<String, Long> counts = new HashMap<>();
      rows.forEach(row -> counts.put(row.getString(0), row.getLong(1)));
      metrics.jobs(counts);
    });
    database.bounded(pool.preparedQuery(Sql.JOB_COUNT_BY_STATUS_AND_PRIORITY).execute()).onSuccess(rows -> {
      Map<String, Long> counts = new HashMap<>();
      rows.forEach(row -> counts.put(row.getString(0) + row.getInteger(1), row.getLong(2)));
      metrics.jobDepth(counts);
    });
    database.bounded(pool.preparedQuery(Sql.JOB_OLDEST_WAITING_MS).execute()).onSuccess(rows -> {
      Long ms = rows.iterator().next().getLong(0);
      metrics.oldestPendingJob(ms == null ? 0 : Math.max(0, ms));
    });
  }

  /**
   * Renews the lease of every job running here. A job whose lease could not be renewed for as long as
   * it lasts is given up: by now another runner may have taken it, so this one stops computing it and
   * stops renewing; the job runs again (here or elsewhere) once the database is back.
   */
  private void renewLeases() {
    long now = System.nanoTime();
    for (Map.Entry<String, Claim> entry : new ArrayList<>(running.entrySet())) {
      String id = entry.getKey();
      Claim claim = entry.getValue();
      if (!claim.storing && now - claim.renewedAt >= leaseMs * 1_000_000L) {
        claim.givenUp = true;
        claim.computation.cancel();
        running.remove(id, claim);
        log.warn("job {}: its lease could not be renewed for {} ms (the database is away); given up here, it runs"
          + " again once the database is back", id, leaseMs);
        continue;
      }
      long asked = now;
      database.bounded(pool.preparedQuery(Sql.JOB_RENEW).execute(Tuple.of(leaseMicros, id, owner, claim.attempt))).onSuccess(rows -> {
        if (rows.rowCount() == 0) {
          // cancelled, or taken over by another runner after we lost the lease
          claim.computation.cancel();
        } else {
          claim.renewedAt = Math.max(claim.renewedAt, asked);
        }
      });
    }
  }
}
