package dev.fibservice.db;

import java.util.List;

/** Every SQL statement fib-service runs, in one place. Parameters are always bound, never spliced in. */
public final class Sql {

  private Sql() {
  }

  public static final String SELECT_ONE = "SELECT 1";

  // --- people
  public static final String PEOPLE_PAGE =
    "SELECT name, age, career, picture FROM people ORDER BY id LIMIT ? OFFSET ?";
  public static final String PEOPLE_COUNT = "SELECT COUNT(*) FROM people";
  public static final String PERSON_BY_NAME = "SELECT name, age, career, picture FROM people WHERE name = ?";
  public static final String PERSON_INSERT = "INSERT INTO people (name, age, career, picture) VALUES (?, ?, ?, ?)";
  public static final String PERSON_UPDATE = "UPDATE people SET age = ?, career = ?, picture = ? WHERE name = ?";
  public static final String PERSON_DELETE = "DELETE FROM people WHERE name = ?";

  // --- jobs
  /** The statuses of a job that waits: for a runner (PENDING), for its time (SCHEDULED) or for its next attempt. */
  static final String WAITING = "('PENDING', 'SCHEDULED', 'RETRY_WAIT')";

  /**
   * 0.2.0's submit (its sql.json fixture still runs it): a PENDING job unless jobs.maxPending are already waiting. A
   * 0.3.0 member inserts with {@link #JOB_INSERT}.
   */
  public static final String JOB_INSERT_IF_ROOM =
    "INSERT INTO jobs (id, n, algorithm, status, created_at) SELECT ?, ?, ?, 'PENDING', UTC_TIMESTAMP(3) FROM DUAL"
      + " WHERE (SELECT COUNT(*) FROM jobs WHERE status = 'PENDING') < ?";
  /**
   * A job, PENDING or SCHEDULED (the caller decides which), unless jobs.maxPending already wait: one statement, so no
   * race. Its run_at is the given instant, or the database's clock plus the given delay (microseconds), so that the
   * promotion, which reads the same clock, never starts it early. Parameters: id, n, algorithm, status, priority twice
   * (the priority and the urgency it starts with), status again, runAt or null, delay, timeout_ms, max_attempts,
   * idempotency_key, request_hash, batch_id, batch_seq, traceparent, the most that may wait.
   */
  public static final String JOB_INSERT =
    "INSERT INTO jobs (id, n, algorithm, status, created_at, priority, urgency, queued_at, run_at, timeout_ms,"
      + " max_attempts, idempotency_key, request_hash, batch_id, batch_seq, traceparent)"
      + " SELECT ?, ?, ?, ?, UTC_TIMESTAMP(3), ?, ?, IF(? = 'PENDING', UTC_TIMESTAMP(3), NULL),"
      + " COALESCE(?, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND), ?, ?, ?, ?, ?, ?, ?"
      + " FROM DUAL WHERE (SELECT COUNT(*) FROM jobs WHERE status IN " + WAITING + ") < ?";
  /** The columns of a job as the API shows it ({@code Jobs.toJson}). */
  static final String JOB_COLUMNS = "id, n, algorithm, status, digits, error, attempts, created_at, started_at,"
    + " finished_at, priority, run_at, timeout_ms, max_attempts, failures, batch_id";
  public static final String JOB_BY_ID = "SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?";
  /** The job an Idempotency-Key names, and the hash of the request that made it. */
  public static final String JOB_BY_IDEMPOTENCY_KEY =
    "SELECT " + JOB_COLUMNS + ", request_hash FROM jobs WHERE idempotency_key = ?";
  /** An Idempotency-Key past jobs.idempotencyMs no longer names its job: the next submit with it makes a new one. */
  public static final String JOB_FORGET_IDEMPOTENCY_KEY =
    "UPDATE jobs SET idempotency_key = NULL, request_hash = NULL WHERE id = ? AND idempotency_key = ?";
  /** How many jobs wait (PENDING, SCHEDULED, RETRY_WAIT): what jobs.maxPending bounds. */
  public static final String JOBS_WAITING = "SELECT COUNT(*) FROM jobs WHERE status IN " + WAITING;

  /**
   * The runnable jobs a runner takes, most urgent first (urgency is the priority, 10 once the job waited longer than
   * jobs.priorityAgingMs), oldest first within one urgency: the index ix_jobs_queue gives that order, so the scan stops
   * after the limit, and SKIP LOCKED passes over the rows another runner is taking at the same moment instead of waiting
   * for it. Run in a transaction with {@link #jobClaim}.
   */
  public static final String JOB_QUEUE_HEAD =
    "SELECT id, n, algorithm, attempts, priority, timeout_ms, max_attempts, failures, traceparent FROM jobs"
      + " WHERE status = 'PENDING' ORDER BY urgency DESC, queued_at LIMIT ? FOR UPDATE SKIP LOCKED";

  /** Claims the jobs of {@link #JOB_QUEUE_HEAD} for one runner: owner, lease (microseconds), then {@code ids} ids. */
  public static String jobClaim(int ids) {
    return "UPDATE jobs SET status = 'RUNNING', owner = ?, attempts = attempts + 1, started_at = UTC_TIMESTAMP(3),"
      + " lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE status = 'PENDING' AND id IN " + marks(ids);
  }

  /** One attempt row for each job just claimed: owner, then {@code ids} ids. */
  public static String jobAttemptsStarted(int ids) {
    return "INSERT IGNORE INTO job_attempts (job_id, attempt, owner, started_at) SELECT id, attempts, owner, started_at"
      + " FROM jobs WHERE owner = ? AND status = 'RUNNING' AND id IN " + marks(ids);
  }

  /** {@code (?, ?, ...)} with {@code count} marks. */
  static String marks(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("at least one id: " + count);
    }
    return "(" + "?, ".repeat(count - 1) + "?)";
  }

  /** 0.2.0's claim statements, which its runners still run during a roll (sql.json). */
  public static final String JOB_CANDIDATES =
    "SELECT id FROM jobs WHERE status = 'PENDING' OR (status = 'RUNNING' AND lease_until < UTC_TIMESTAMP(3))"
      + " ORDER BY created_at LIMIT ?";
  public static final String JOB_CLAIM =
    "UPDATE jobs SET status = 'RUNNING', owner = ?, attempts = attempts + 1, started_at = UTC_TIMESTAMP(3),"
      + " lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
      + " WHERE id = ? AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < UTC_TIMESTAMP(3)))";
  /*
   * The lease, the result and a failure apply only to the claim that computed them: owner AND attempt. A runner
   * whose store outlived its lease (a stalled server) may see that store go on once the server is back, after the
   * same runner took the job again; the older attempt then changes nothing.
   */
  public static final String JOB_RENEW =
    "UPDATE jobs SET lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  public static final String JOB_DONE =
    "UPDATE jobs SET status = 'DONE', digits = ?, finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /** 0.2.0's final failure (sql.json); 0.3.0 counts the failure too: {@link #JOB_FAILED_FINALLY}. */
  public static final String JOB_FAILED =
    "UPDATE jobs SET status = 'FAILED', error = ?, finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /** A failed attempt that ends the job: FAILED, a dead letter. Parameters: failures to add (0 or 1), error, claim. */
  public static final String JOB_FAILED_FINALLY =
    "UPDATE jobs SET status = 'FAILED', failures = failures + ?, error = ?, finished_at = UTC_TIMESTAMP(3),"
      + " owner = NULL, lease_until = NULL WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /**
   * A failed attempt that may pass: the job waits out its backoff (microseconds) in RETRY_WAIT, which 0.2.0 runners
   * do not claim, then is promoted to PENDING. Parameters: error, backoff, then the claim (id, owner, attempt).
   */
  public static final String JOB_RETRY_LATER =
    "UPDATE jobs SET status = 'RETRY_WAIT', failures = failures + 1, error = ?, owner = NULL, lease_until = NULL,"
      + " run_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /**
   * A stopping runner gives a job it computes back at once: PENDING again, for any runner (any release: they all look
   * for PENDING jobs), instead of RUNNING until its lease runs out. Only its own claim, as the lease's statements. Its
   * queued_at stays: it goes first among its urgency.
   */
  public static final String JOB_GIVE_BACK =
    "UPDATE jobs SET status = 'PENDING', owner = NULL, lease_until = NULL, started_at = NULL"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /** 0.2.0's cancel (sql.json); 0.3.0 cancels waiting jobs of every kind: {@link #JOB_CANCEL_ANY}. */
  public static final String JOB_CANCEL =
    "UPDATE jobs SET status = 'CANCELLED', finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND status IN ('PENDING', 'RUNNING')";
  public static final String JOB_CANCEL_ANY =
    "UPDATE jobs SET status = 'CANCELLED', finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND status IN ('PENDING', 'SCHEDULED', 'RETRY_WAIT', 'RUNNING')";
  /**
   * A FAILED or CANCELLED job runs again on request: a new series of attempts (failures from 0), queued now; its
   * attempts so far stay in job_attempts, and its attempts count goes on (it fences the claims). Unless jobs.maxPending
   * already wait (the count is read through a derived table: MariaDB refuses a subquery on the table it updates).
   */
  public static final String JOB_RETRY =
    "UPDATE jobs SET status = 'PENDING', failures = 0, error = NULL, digits = NULL, finished_at = NULL, owner = NULL,"
      + " lease_until = NULL, started_at = NULL, queued_at = UTC_TIMESTAMP(3), run_at = UTC_TIMESTAMP(3),"
      + " urgency = priority WHERE id = ? AND status IN ('FAILED', 'CANCELLED')"
      + " AND (SELECT w.c FROM (SELECT COUNT(*) AS c FROM jobs WHERE status IN " + WAITING + ") w) < ?";

  // --- the attempts of a job
  /** Closes an attempt that is still open: outcome, error (or null), job id, attempt. */
  public static final String JOB_ATTEMPT_ENDED =
    "UPDATE job_attempts SET ended_at = UTC_TIMESTAMP(3), outcome = ?, error = ? WHERE job_id = ? AND attempt = ?"
      + " AND outcome IS NULL";
  /** A cancel closes the open attempt of the job, whoever runs it (its runner may be gone). */
  public static final String JOB_ATTEMPTS_CANCELLED =
    "UPDATE job_attempts SET ended_at = UTC_TIMESTAMP(3), outcome = 'CANCELLED' WHERE job_id = ? AND outcome IS NULL";
  public static final String JOB_ATTEMPTS =
    "SELECT attempt, owner, started_at, ended_at, outcome, error FROM job_attempts WHERE job_id = ? ORDER BY attempt";

  // --- upkeep: what every runner does besides running jobs
  /** SCHEDULED and RETRY_WAIT jobs whose time has come become PENDING, queued at that time (at most so many). */
  public static final String JOBS_PROMOTE =
    "UPDATE jobs SET status = 'PENDING', queued_at = run_at, urgency = priority"
      + " WHERE status IN ('SCHEDULED', 'RETRY_WAIT') AND run_at <= UTC_TIMESTAMP(3) ORDER BY run_at LIMIT ?";
  /** In how many milliseconds the next SCHEDULED or RETRY_WAIT job is due (NULL: none waits for its time). */
  public static final String JOBS_NEXT_DUE_MS =
    "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), MIN(run_at)) DIV 1000 FROM jobs"
      + " WHERE status IN ('SCHEDULED', 'RETRY_WAIT')";
  /** PENDING jobs that waited longer than jobs.priorityAgingMs (microseconds) go before every priority. */
  public static final String JOBS_AGE =
    "UPDATE jobs SET urgency = 10 WHERE status = 'PENDING' AND urgency < 10"
      + " AND queued_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND";
  /**
   * RUNNING jobs whose attempt is over without their runner saying so: the lease ran out (the runner, or its database,
   * was lost: LOST), or the job's own timeoutMs passed by a lease more (a runner that ignores it, such as 0.2.0's:
   * TIMEOUT). Parameters: the lease (milliseconds), the most rows.
   */
  public static final String JOBS_OVERDUE =
    "SELECT id, owner, attempts, failures, max_attempts, IF(lease_until < UTC_TIMESTAMP(3), 'LOST', 'TIMEOUT')"
      + " FROM jobs WHERE status = 'RUNNING' AND (lease_until < UTC_TIMESTAMP(3) OR (timeout_ms IS NOT NULL"
      + " AND started_at + INTERVAL (timeout_ms + ?) * 1000 MICROSECOND < UTC_TIMESTAMP(3))) LIMIT ?";

  // --- retention: finished jobs deleted in small statements
  /**
   * Finished jobs of one status past their keep (microseconds), oldest first, at most so many: by ix_jobs_status
   * (status, created_at), as a job is created before it finishes.
   */
  public static final String JOBS_EXPIRED =
    "SELECT id FROM jobs USE INDEX (ix_jobs_status) WHERE status = ? AND created_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND"
      + " AND finished_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND ORDER BY created_at LIMIT ?";

  public static String jobChunksDeleted(int ids) {
    return "DELETE FROM job_chunks WHERE job_id IN " + marks(ids);
  }

  public static String jobAttemptsDeleted(int ids) {
    return "DELETE FROM job_attempts WHERE job_id IN " + marks(ids);
  }

  /** The jobs themselves, last, and only those still finished (a retry in between keeps its job). */
  public static String jobsDeleted(int ids) {
    return "DELETE FROM jobs WHERE status IN ('DONE', 'FAILED', 'CANCELLED') AND id IN " + marks(ids);
  }

  /** Batches none of whose jobs is left, older than the given keep (microseconds), at most so many. */
  public static final String BATCHES_EMPTIED =
    "DELETE FROM job_batches WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND"
      + " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.batch_id = job_batches.id) LIMIT ?";

  // --- batches
  public static final String BATCH_INSERT = "INSERT INTO job_batches (id, size, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))";
  public static final String BATCH_BY_ID = "SELECT id, size, created_at FROM job_batches WHERE id = ?";
  public static final String BATCH_JOBS = "SELECT " + JOB_COLUMNS + " FROM jobs WHERE batch_id = ? ORDER BY batch_seq";

  // --- what operators see (the ops port)
  /**
   * One page of jobs, newest first, after the cursor (created_at, id): keyset paging, so a job submitted meanwhile
   * never moves a later page. Parameters: created_at twice, id, priority twice (null: any), the most rows.
   */
  public static final String JOBS_PAGE =
    "SELECT " + JOB_COLUMNS + " FROM jobs WHERE (created_at < ? OR (created_at = ? AND id < ?))"
      + " AND (? IS NULL OR priority = ?) ORDER BY created_at DESC, id DESC LIMIT ?";
  /** The same, of one status first (the index ix_jobs_status serves it). */
  public static final String JOBS_PAGE_OF_STATUS =
    "SELECT " + JOB_COLUMNS + " FROM jobs WHERE status = ? AND (created_at < ? OR (created_at = ? AND id < ?))"
      + " AND (? IS NULL OR priority = ?) ORDER BY created_at DESC, id DESC LIMIT ?";
  public static final String JOB_COUNT_BY_STATUS = "SELECT status, COUNT(*) FROM jobs GROUP BY status";
  /** The jobs that wait or run, by status and priority (the depth metrics). */
  public static final String JOB_COUNT_BY_STATUS_AND_PRIORITY =
    "SELECT status, priority, COUNT(*) FROM jobs WHERE status IN ('PENDING', 'SCHEDULED', 'RETRY_WAIT', 'RUNNING')"
      + " GROUP BY status, priority";
  /** 0.2.0's age of the oldest PENDING job (sql.json). */
  public static final String JOB_OLDEST_PENDING_MS =
    "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), UTC_TIMESTAMP(3)) DIV 1000 FROM jobs WHERE status = 'PENDING'";
  /** How long the PENDING job that became runnable first has waited for a runner, in milliseconds (NULL: none). */
  public static final String JOB_OLDEST_WAITING_MS =
    "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(queued_at), UTC_TIMESTAMP(3)) DIV 1000 FROM jobs WHERE status = 'PENDING'";
  /** The run times of the last finished runs (microseconds), newest first. */
  public static final String JOB_RUN_TIMES =
    "SELECT TIMESTAMPDIFF(MICROSECOND, started_at, ended_at) FROM job_attempts WHERE outcome = 'DONE'"
      + " ORDER BY ended_at DESC LIMIT ?";

  /** REPLACE: two attempts' stores of one job write the same digits; neither may fail on the other's rows. */
  public static final String JOB_CHUNK_INSERT = "REPLACE INTO job_chunks (job_id, seq, digits) VALUES (?, ?, ?)";
  public static final String JOB_CHUNKS_DELETE = "DELETE FROM job_chunks WHERE job_id = ?";
  public static final String JOB_CHUNK = "SELECT digits FROM job_chunks WHERE job_id = ? AND seq = ?";

  // --- migrations
  public static final String CREATE_SCHEMA_VERSION =
    "CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL,"
      + " applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))";
  public static final String SCHEMA_VERSIONS = "SELECT version FROM schema_version";
  public static final String SCHEMA_VERSION_INSERT = "INSERT INTO schema_version (version, description) VALUES (?, ?)";
  /** A named lock: when several nodes start at once, one migrates and the others wait. */
  public static final String MIGRATION_LOCK = "SELECT GET_LOCK('fib_service_migrations', 30)";
  public static final String MIGRATION_UNLOCK = "SELECT RELEASE_LOCK('fib_service_migrations')";

  /** A versioned schema change; once applied (recorded in schema_version) it never runs again. */
  public record Migration(int version, String description, List<String> statements) {
  }

  public static final List<Migration> MIGRATIONS = List.of(
    new Migration(1, "people", List.of(
      "CREATE TABLE IF NOT EXISTS people (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL,"
        + " age INT NOT NULL, career VARCHAR(100) NOT NULL DEFAULT '', picture VARCHAR(512) NULL,"
        + " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), UNIQUE KEY uk_people_name (name))"
        + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")),
    new Migration(2, "seed people", List.of(
      "INSERT IGNORE INTO people (name, age, career, picture) VALUES ('Han Meimei', 20, 'student', '/images/1.jpg'),"
        + " ('Brus Lee', 30, 'engineer', '/images/2.jpg'), ('Jack Chen', 50, 'actor', '/images/3.jpg')")),
    new Migration(3, "jobs", List.of(
      "CREATE TABLE IF NOT EXISTS jobs (id CHAR(32) NOT NULL PRIMARY KEY, n INT NOT NULL, algorithm VARCHAR(16) NOT NULL,"
        + " status VARCHAR(16) NOT NULL, digits INT NULL, error VARCHAR(1000) NULL, owner VARCHAR(200) NULL,"
        + " attempts INT NOT NULL DEFAULT 0, lease_until DATETIME(3) NULL, created_at DATETIME(3) NOT NULL,"
        + " started_at DATETIME(3) NULL, finished_at DATETIME(3) NULL, KEY ix_jobs_status (status, created_at))"
        + " CHARACTER SET ascii",
      "CREATE TABLE IF NOT EXISTS job_chunks (job_id CHAR(32) NOT NULL, seq INT NOT NULL, digits MEDIUMTEXT NOT NULL,"
        + " PRIMARY KEY (job_id, seq)) CHARACTER SET ascii")),
    // utf8mb4_bin pads with spaces when comparing ('Ada ' = 'Ada'): names must compare byte for byte. The
    // unique key stays, and no two stored names can collide, since NO PAD only tells more names apart.
    new Migration(4, "people names compare exactly", List.of(
      "ALTER TABLE people MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL")),
    /*
     * 0.3.0, expand only (docs/compatibility.md): every new column is NULL or has a default, so that 0.2.0's statements
     * (its submits and its runner) keep working unchanged. What a 0.2.0 runner must not start waits in a status it does
     * not claim (SCHEDULED, RETRY_WAIT); it claims PENDING, which only ever holds jobs it may run as it understands them.
     * queued_at defaults to the insert's time, so 0.2.0's inserts queue in order too.
     */
    new Migration(5, "jobs: priority, delay, retries, idempotency keys, batches, trace context", List.of(
      "ALTER TABLE jobs ADD COLUMN priority TINYINT NOT NULL DEFAULT 5, ADD COLUMN urgency TINYINT NOT NULL DEFAULT 5,"
        + " ADD COLUMN queued_at DATETIME(3) NULL DEFAULT UTC_TIMESTAMP(3), ADD COLUMN run_at DATETIME(3) NULL,"
        + " ADD COLUMN timeout_ms INT NULL, ADD COLUMN max_attempts INT NULL,"
        + " ADD COLUMN failures INT NOT NULL DEFAULT 0, ADD COLUMN idempotency_key VARCHAR(200) NULL,"
        + " ADD COLUMN request_hash CHAR(64) NULL, ADD COLUMN batch_id CHAR(32) NULL,"
        + " ADD COLUMN traceparent VARCHAR(55) NULL, ADD COLUMN batch_seq INT NULL,"
        + " ADD KEY ix_jobs_queue (status, urgency DESC, queued_at), ADD KEY ix_jobs_due (status, run_at),"
        + " ADD KEY ix_jobs_created (created_at), ADD KEY ix_jobs_batch (batch_id),"
        + " ADD UNIQUE KEY uk_jobs_idempotency (idempotency_key)",
      "CREATE TABLE IF NOT EXISTS job_attempts (job_id CHAR(32) NOT NULL, attempt INT NOT NULL,"
        + " owner VARCHAR(200) NULL, started_at DATETIME(3) NOT NULL, ended_at DATETIME(3) NULL,"
        + " outcome VARCHAR(16) NULL, error VARCHAR(1000) NULL, PRIMARY KEY (job_id, attempt),"
        + " KEY ix_job_attempts_ended (outcome, ended_at)) CHARACTER SET ascii",
      "CREATE TABLE IF NOT EXISTS job_batches (id CHAR(32) NOT NULL PRIMARY KEY, size INT NOT NULL,"
        + " created_at DATETIME(3) NOT NULL) CHARACTER SET ascii")));
}
