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
  /** Inserts a PENDING job unless jobs.maxPending are already waiting: one statement, so no race. */
  public static final String JOB_INSERT_IF_ROOM =
    "INSERT INTO jobs (id, n, algorithm, status, created_at) SELECT ?, ?, ?, 'PENDING', UTC_TIMESTAMP(3) FROM DUAL"
      + " WHERE (SELECT COUNT(*) FROM jobs WHERE status = 'PENDING') < ?";
  public static final String JOB_BY_ID =
    "SELECT id, n, algorithm, status, digits, error, attempts, created_at, started_at, finished_at FROM jobs WHERE id = ?";
  /** Pending jobs and RUNNING jobs whose runner stopped renewing its lease (it died): oldest first. */
  public static final String JOB_CANDIDATES =
    "SELECT id FROM jobs WHERE status = 'PENDING' OR (status = 'RUNNING' AND lease_until < UTC_TIMESTAMP(3))"
      + " ORDER BY created_at LIMIT ?";
  /** Claims a job for one runner; the claim holds when exactly one row changed. */
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
  public static final String JOB_FAILED =
    "UPDATE jobs SET status = 'FAILED', error = ?, finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  /**
   * A stopping runner gives a job it computes back at once: PENDING again, for any runner (any release: they all look
   * for PENDING jobs), instead of RUNNING until its lease runs out. Only its own claim, as the lease's statements.
   */
  public static final String JOB_GIVE_BACK =
    "UPDATE jobs SET status = 'PENDING', owner = NULL, lease_until = NULL, started_at = NULL"
      + " WHERE id = ? AND owner = ? AND attempts = ? AND status = 'RUNNING'";
  public static final String JOB_CANCEL =
    "UPDATE jobs SET status = 'CANCELLED', finished_at = UTC_TIMESTAMP(3), lease_until = NULL"
      + " WHERE id = ? AND status IN ('PENDING', 'RUNNING')";
  /** REPLACE: two attempts' stores of one job write the same digits; neither may fail on the other's rows. */
  public static final String JOB_CHUNK_INSERT = "REPLACE INTO job_chunks (job_id, seq, digits) VALUES (?, ?, ?)";
  public static final String JOB_CHUNKS_DELETE = "DELETE FROM job_chunks WHERE job_id = ?";
  public static final String JOB_CHUNK = "SELECT digits FROM job_chunks WHERE job_id = ? AND seq = ?";
  public static final String JOB_COUNT_BY_STATUS = "SELECT status, COUNT(*) FROM jobs GROUP BY status";
  /** How long the oldest PENDING job has waited, in milliseconds (NULL when none waits). */
  public static final String JOB_OLDEST_PENDING_MS =
    "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), UTC_TIMESTAMP(3)) DIV 1000 FROM jobs WHERE status = 'PENDING'";

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
      "ALTER TABLE people MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL")));
}
