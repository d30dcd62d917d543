package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.math.Algorithm;
import dev.fibservice.compute.Computation;
import dev.fibservice.compute.ComputeResult;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
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
import java.util.concurrent.TimeUnit;

/**
 * Runs background jobs: claims PENDING jobs (and RUNNING ones whose runner died: its lease ran out)
 * from the database, computes them on the job workers (a pool of their own, so jobs never take the
 * interactive workers), stores the digits in chunks and marks them DONE. While a job runs, its lease is
 * renewed; a cancelled job's computation is stopped. A runner that cannot renew a lease for as long as
 * the lease lasts (it lost its database) gives that job up, since another runner may take it by then, and
 * takes jobs again once the database is back. A runner that stops gives its jobs back at once (PENDING again) and
 * wakes the other runners, so that one of them takes them without waiting for the leases to run out.
 */
public final class JobRunner extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

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
  private boolean polling;
  private boolean stopped;
  /** Why the last poll could not look at the jobs table, or null: logged when it changes, not at every poll. */
  private String trouble;
  /** Whether a poll ever succeeded: until then, a database still starting is no news. */
  private boolean polled;

  /** A job this runner computes, and when its lease was last known to hold. */
  private static final class Claim {
    final Computation computation;
    /** Which claim of the job this is (its attempts column): results and leases apply to this claim only. */
    final int attempt;
    long renewedAt = System.nanoTime();
    /** Its lease ran out while the database was away: whatever the computation gives is dropped. */
    boolean givenUp;
    /** Computed, its digits being written: a store that finds the job taken over keeps nothing anyway. */
    boolean storing;

    Claim(Computation computation, int attempt) {
      this.computation = computation;
      this.attempt = attempt;
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
    vertx.setPeriodic(settings.getInt(Settings.JOBS_POLL_MS), t -> poll());
    vertx.setPeriodic(Math.max(100, leaseMs / 3), t -> renewLeases());
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
    for (Map.Entry<String, Claim> entry : running.entrySet()) {
      Claim claim = entry.getValue();
      if (claim.storing) {
        continue;
      }
      claim.givenUp = true;
      claim.computation.cancel();
      given.add(database.bounded(pool.preparedQuery(Sql.JOB_GIVE_BACK).execute(Tuple.of(entry.getKey(), owner,
          claim.attempt)))
        .map(rows -> {
          if (rows.rowCount() == 1) {
            // the other runners look at once, as for a new job (the same message: its id)
            vertx.eventBus().publish(Addresses.JOBS_WAKEUP, entry.getKey());
          }
          return rows.rowCount() == 1;
        })
        .otherwise(e -> {
          log.warn("job {}: could not give it back ({}); it runs again once its lease ({} ms) runs out", entry.getKey(),
            Database.failure(e).getMessage(), leaseMs);
          return false;
        }));
    }
    if (given.isEmpty()) {
      return Future.succeededFuture();
    }
    return Future.join(given).transform(ar -> {
      long back = given.stream().filter(f -> Boolean.TRUE.equals(f.result())).count();
      log.info("job runner stopping: gave {} of {} running jobs back (PENDING) for another runner", back, given.size());
      return Future.succeededFuture();
    });
  }

  /** Claims as many runnable jobs as there are free job workers. */
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
    database.bounded(pool.preparedQuery(Sql.JOB_CANDIDATES).execute(Tuple.of(free * 4)))
      .compose(rows -> {
        List<String> ids = new ArrayList<>();
        rows.forEach(row -> ids.add(row.getString(0)));
        return claimSome(ids, 0, free);
      })
      .onComplete(ar -> {
        polling = false;
        if (ar.failed()) {
          troubled(Database.failure(ar.cause()).getMessage());
          return;
        }
        if (trouble != null && polled) {
          log.info("job runner: the database is back; taking jobs again");
        }
        trouble = null;
        polled = true;
        if (ar.result() > 0) {
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

  private Future<Integer> claimSome(List<String> ids, int index, int free) {
    if (index == ids.size() || free == 0 || stopped) {
      return Future.succeededFuture(0);
    }
    String id = ids.get(index);
    return database.bounded(pool.preparedQuery(Sql.JOB_CLAIM).execute(Tuple.of(owner, leaseMicros, id)))
      .compose(rows -> {
        if (rows.rowCount() == 0) {
          return claimSome(ids, index + 1, free);
        }
        // should this fail, the job stays claimed by nobody that renews it: its lease runs out, it runs again
        return database.bounded(pool.preparedQuery(Sql.JOB_BY_ID).execute(Tuple.of(id))).compose(job -> {
          run(job.iterator().next());
          return claimSome(ids, index + 1, free - 1).map(n -> n + 1);
        });
      });
  }

  /** A claimed job runs in a trace of its own (with tracing on): its computation and the SQL that stores it. */
  private void run(Row row) {
    Traces.inNewTrace("fib.job", span -> run(row, span));
  }

  private void run(Row row, Span span) {
    String id = row.getString("id");
    FibRequest request = new FibRequest(row.getInteger("n"), Algorithm.fromWireName(row.getString("algorithm")));
    Computation computation = new Computation(id, request);
    Claim claim = new Claim(computation, row.getInteger("attempts"));
    running.put(id, claim);
    log.info("job {} F({}) {} running (attempt {})", id, request.n(), request.algorithm().wireName(), claim.attempt);
    long timer = vertx.setTimer(timeoutMs, t -> computation.cancel());
    DeliveryOptions delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutMs + 60_000);
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
          return fail(id, claim, computed.cause());
        }
        claim.storing = true;
        return store(id, claim, computed.result().body()).recover(e -> {
          ServiceError error = Database.failure(e);
          // a database away or too slow: nothing is recorded, the job runs again; a statement refused is final
          return error.status() == ServiceError.UNAVAILABLE ? Future.failedFuture(error) : fail(id, claim, error);
        });
      })
      .onComplete(ar -> {
        vertx.cancelTimer(timer);
        running.remove(id, claim);
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
   * Stores the digits in chunks and marks the job DONE, in one transaction (only if it is still ours).
   * Bounded, mysql.queryTimeoutMs for each statement it runs: a store that never ended would keep the
   * job RUNNING, its lease renewed, for good.
   */
  private Future<Void> store(String id, Claim claim, ComputeResult result) {
    String digits = result.value();
    int statements = digits.length() / Jobs.CHUNK + 4;
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.JOB_CHUNKS_DELETE).execute(Tuple.of(id))
      .compose(v -> insertChunks(conn, id, digits, 0))
      .compose(v -> conn.preparedQuery(Sql.JOB_DONE).execute(Tuple.of(digits.length(), id, owner, claim.attempt)))
      .compose(rows -> rows.rowCount() == 1 ? Future.<Void>succeededFuture()
        // cancelled, or taken over, while computing: keep nothing
        : Future.failedFuture(new NoLongerOurs()))
    ).timeout((long) queryTimeoutMs * statements, TimeUnit.MILLISECONDS)
      .onSuccess(v -> log.info("job {} DONE: {} digits in {} ms", id, digits.length(), result.computeMicros() / 1000))
      .recover(e -> e instanceof NoLongerOurs ? Future.succeededFuture() : Future.failedFuture(e));
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

  private Future<Void> fail(String id, Claim claim, Throwable e) {
    if (stopped) {
      return Future.succeededFuture();
    }
    String error = claim.computation.cancelled() ? "cancelled or past jobs.timeoutMs = " + timeoutMs + " ms"
      : ServiceError.from(e).getMessage();
    // a cancelled job is already CANCELLED: this update then changes nothing
    return database.bounded(pool.preparedQuery(Sql.JOB_FAILED).execute(Tuple.of(error, id, owner, claim.attempt))).mapEmpty();
  }

  /** Refreshes the jobs-by-status gauges and the age of the oldest waiting job. */
  private void countJobs() {
    if (database.check() != null) {
      return;
    }
    database.bounded(pool.preparedQuery(Sql.JOB_COUNT_BY_STATUS).execute()).onSuccess(rows -> {
      Map<String, Long> counts = new HashMap<>();
      rows.forEach(row -> counts.put(row.getString(0), row.getLong(1)));
      metrics.jobs(counts);
    });
    database.bounded(pool.preparedQuery(Sql.JOB_OLDEST_PENDING_MS).execute()).onSuccess(rows -> {
      Long ms = rows.iterator().next().getLong(0);
      metrics.oldestPendingJob(ms == null ? 0 : ms);
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
