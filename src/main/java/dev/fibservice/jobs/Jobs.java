package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Background jobs as the API sees them: submit (idempotent with a key), status, attempts, cancel, retry, batches, and
 * the results streamed back; for operators, pages of jobs and their statistics. The same code serves HTTP
 * ({@code /jobs}) and the event bus ({@code jobs.submit}, {@code jobs.status}, ...). Jobs and results live in the
 * database, so they survive restarts.
 */
public final class Jobs {

  /** Result digits are stored in chunks of this many characters, and streamed back chunk by chunk. */
  static final int CHUNK = 1 << 20;
  private static final SecureRandom IDS = new SecureRandom();
  private static final int ER_DUP_ENTRY = 1062;
  /** How often a submit whose statement a deadlock rolled back runs again before the client hears "busy". */
  private static final int DEADLOCK_RETRIES = 3;
  private static final String ID = "[0-9a-f]{32}";
  /** How many finished runs the run-time percentiles of {@link #stats} read. */
  static final int RUN_TIME_SAMPLE = 1000;

  private final Vertx vertx;
  private final Pool pool;
  private final Database database;
  private final JobRequest.Limits limits;
  private final int maxPending;
  private final int maxBatch;
  private final int maxPageSize;
  private final long idempotencyMs;

  /** What a submit made: the job, and whether it is new (false: an Idempotency-Key named an earlier one). */
  public record Submitted(JsonObject job, boolean created) {
  }

  public Jobs(Vertx vertx, Pool pool, Database database, Settings settings) {
    this.vertx = vertx;
    this.pool = pool;
    this.database = database;
    this.limits = JobRequest.Limits.from(settings);
    this.maxPending = settings.getInt(Settings.JOBS_MAX_PENDING);
    this.maxBatch = settings.getInt(Settings.JOBS_MAX_BATCH);
    this.maxPageSize = settings.getInt(Settings.JOBS_MAX_PAGE_SIZE);
    this.idempotencyMs = settings.getLong(Settings.JOBS_IDEMPOTENCY_MS);
  }

  /** Validates like /fib, then stores a PENDING job (503 when jobs.maxPending are already waiting). */
  public Future<JsonObject> submit(Object body) {
    return submit(body, null, null).map(Submitted::job);
  }

  /**
   * Validates like /fib, then stores the job, PENDING, or SCHEDULED when it must wait for its time; 503 when
   * jobs.maxPending already wait.
   *
   * @param idempotencyKey null, or the client's key: the same key with the same request within jobs.idempotencyMs is
   *                       the same job (not created again), with another request a 409
   * @param traceparent    the submitter's trace context (W3C), stored with the job so that its run joins that trace
   */
  public Future<Submitted> submit(Object body, String idempotencyKey, String traceparent) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    JobRequest request;
    try {
      checkIdempotencyKey(idempotencyKey);
      request = JobRequest.fromJson(body, limits);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    }
    String hash = idempotencyKey == null ? null : request.hash();
    return insert(request, idempotencyKey, hash, traceparent, true, DEADLOCK_RETRIES);
  }

  private Future<Submitted> insert(JobRequest request, String key, String hash, String traceparent, boolean again) {
    return insert(request, key, hash, traceparent, again, DEADLOCK_RETRIES);
  }

  /**
   * The submit's one statement; a deadlock's victim (its locks crossed a runner's claim) was rolled back whole and runs
   * again, at most {@code retries} times, before the client is told the database is busy.
   */
  private Future<Submitted> insert(JobRequest request, String key, String hash, String traceparent, boolean again,
      int retries) {
    String id = newId();
    String status = request.delayed() ? "SCHEDULED" : "PENDING";
    return database.bounded(pool.preparedQuery(Sql.JOB_INSERT).execute(insertRow(id, request, status, key, hash, null,
        null, traceparent, maxPending)))
      .transform(ar -> {
        if (ar.succeeded()) {
          if (ar.result().rowCount() == 0) {
            return Future.failedFuture(busy(1));
          }
          return created(id, status, request);
        }
        if (key != null && duplicateKey(ar.cause())) {
          return sameKey(request, key, hash, traceparent, again);
        }
        if (retries > 0 && Database.deadlocked(ar.cause())) {
          return insert(request, key, hash, traceparent, again, retries - 1);
        }
        return Future.failedFuture(Database.failure(ar.cause()));
      });
  }

  private Future<Submitted> created(String id, String status, JobRequest request) {
    if ("PENDING".equals(status)) {
      vertx.eventBus().publish(Addresses.JOBS_WAKEUP, id);
    }
    JobEvents.status(vertx, id, status, null);
    // no read back (a submit is one statement): the times it was given are in GET /jobs/{id}
    return Future.succeededFuture(new Submitted(new JsonObject().put("id", id).put("status", status)
      .put("n", request.fib().n()).put("algorithm", request.fib().algorithm().wireName())
      .put("priority", request.priority()).put("maxAttempts", request.maxAttempts())
      .put("timeoutMs", request.timeoutMs()), true));
  }

  /** Another submit holds the key: that job if it was the same request within the window, else 409. */
  private Future<Submitted> sameKey(JobRequest request, String key, String hash, String traceparent, boolean again) {
    return database.bounded(pool.preparedQuery(Sql.JOB_BY_IDEMPOTENCY_KEY).execute(Tuple.of(key)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> {
        if (rows.size() == 0) {
          // forgotten in between: insert again, once
          return again ? insert(request, key, hash, traceparent, false) : Future.failedFuture(keyBusy(key));
        }
        Row row = rows.iterator().next();
        LocalDateTime created = row.getLocalDateTime("created_at");
        if (created.toInstant(ZoneOffset.UTC).plusMillis(idempotencyMs).isBefore(Instant.now())) {
          if (!again) {
            return Future.failedFuture(keyBusy(key));
          }
          return database.bounded(pool.preparedQuery(Sql.JOB_FORGET_IDEMPOTENCY_KEY)
              .execute(Tuple.of(row.getString("id"), key)))
            .recover(e -> Future.failedFuture(Database.failure(e)))
            .compose(v -> insert(request, key, hash, traceparent, false));
        }
        if (!hash.equals(row.getString("request_hash"))) {
          return Future.failedFuture(new ServiceError(409, "Idempotency-Key '" + Text.abbreviate(key) + "' was sent"
            + " with another request within jobs.idempotencyMs (" + idempotencyMs + " ms): use a new key for a new"
            + " request", new JsonObject().put("param", "Idempotency-Key")));
        }
        return Future.succeededFuture(new Submitted(toJson(row), false));
      });
  }

  private static ServiceError keyBusy(String key) {
    return new ServiceError(ServiceError.UNAVAILABLE, "Idempotency-Key '" + Text.abbreviate(key) + "' is being"
      + " reused at this very moment; retry shortly", null);
  }

  private static boolean duplicateKey(Throwable e) {
    return e instanceof DatabaseException de && de.getErrorCode() == ER_DUP_ENTRY
      && String.valueOf(de.getMessage()).contains("uk_jobs_idempotency");
  }

  /** 1 to 200 visible ASCII characters (a UUID is fine), else 400. */
  static void checkIdempotencyKey(String key) {
    if (key != null && !key.matches("[\\x21-\\x7e]{1,200}")) {
      throw ServiceError.badRequest("Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID, say), got '"
        + Text.abbreviate(key) + "' (" + key.length() + " characters)", new JsonObject().put("param", "Idempotency-Key"));
    }
  }

  private Tuple insertRow(String id, JobRequest request, String status, String key, String hash, String batchId,
                          Integer batchSeq, String traceparent, long room) {
    LocalDateTime runAt = request.runAt() == null ? null : LocalDateTime.ofInstant(request.runAt(), ZoneOffset.UTC);
    long delayMicros = request.delayMs() == null ? 0 : request.delayMs() * 1000L;
    return Tuple.of(id, request.fib().n(), request.fib().algorithm().wireName(), status, request.priority(),
        request.priority(), status)
      .addValue(runAt).addValue(delayMicros).addValue(request.timeoutMs()).addValue(request.maxAttempts())
      .addValue(key).addValue(hash).addValue(batchId).addValue(batchSeq).addValue(traceparent).addValue(room);
  }

  private ServiceError busy(int jobs) {
    return new ServiceError(ServiceError.UNAVAILABLE, "busy: " + (jobs == 1 ? "" : "there is no room for " + jobs
      + " more jobs; ") + "at most " + maxPending + " jobs may wait (jobs.maxPending); retry later",
      new JsonObject().put("limit", Settings.JOBS_MAX_PENDING.name()).put("max", maxPending));
  }

  private static String newId() {
    byte[] raw = new byte[16];
    IDS.nextBytes(raw);
    return HexFormat.of().formatHex(raw);
  }

  /** The job's JSON; 404 when there is no such job. */
  public Future<JsonObject> status(String id) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    if (id == null || !id.matches(ID)) {
      return Future.failedFuture(notFound(id));
    }
    return database.bounded(pool.preparedQuery(Sql.JOB_BY_ID).execute(Tuple.of(id)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> rows.size() == 0 ? Future.failedFuture(notFound(id))
        : Future.succeededFuture(toJson(rows.iterator().next())));
  }

  /** The job's attempts, oldest first: each with its runner, start, end, outcome and error. */
  public Future<JsonObject> attempts(String id) {
    return status(id).compose(job -> database.bounded(pool.preparedQuery(Sql.JOB_ATTEMPTS).execute(Tuple.of(id)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .map(rows -> {
        JsonArray attempts = new JsonArray();
        rows.forEach(row -> attempts.add(new JsonObject()
          .put("attempt", row.getInteger("attempt"))
          .put("runner", row.getString("owner"))
          .put("startedAt", instant(row.getLocalDateTime("started_at")))
          .put("endedAt", instant(row.getLocalDateTime("ended_at")))
          .put("outcome", row.getString("outcome"))
          .put("error", row.getString("error"))));
        return job.put("history", attempts);
      }));
  }

  /** Cancels a job that waits or runs (its computation stops); 409 once it has finished. */
  public Future<JsonObject> cancel(String id) {
    return status(id).compose(job -> database.bounded(pool.preparedQuery(Sql.JOB_CANCEL_ANY).execute(Tuple.of(id)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> {
        if (rows.rowCount() == 0) {
          return Future.failedFuture(new ServiceError(409, "job " + id + " has already finished ("
            + job.getString("status") + ") and cannot be cancelled", null));
        }
        vertx.eventBus().publish(Addresses.JOBS_CANCELLED, id);
        // its runner closes the attempt too; this closes it where the runner is gone
        return database.bounded(pool.preparedQuery(Sql.JOB_ATTEMPTS_CANCELLED).execute(Tuple.of(id)))
          .recover(e -> Future.succeededFuture())
          .compose(v -> status(id))
          .onSuccess(cancelled -> JobEvents.status(vertx, id, "CANCELLED", null));
      }));
  }

  /**
   * Runs a FAILED or CANCELLED job again: a new series of attempts, its history kept; 409 in any other status, 503 when
   * jobs.maxPending already wait.
   */
  public Future<JsonObject> retry(String id) {
    return status(id).compose(job -> {
      String status = job.getString("status");
      if (!"FAILED".equals(status) && !"CANCELLED".equals(status)) {
        return Future.failedFuture(new ServiceError(409, "job " + id + " is " + status + "; only a FAILED or CANCELLED"
          + " job can be retried", null));
      }
      return database.bounded(pool.preparedQuery(Sql.JOB_RETRY).execute(Tuple.of(id, maxPending)))
        .recover(e -> Future.failedFuture(Database.failure(e)))
        .compose(rows -> status(id).compose(now -> {
          if (rows.rowCount() == 1) {
            vertx.eventBus().publish(Addresses.JOBS_WAKEUP, id);
            JobEvents.status(vertx, id, "PENDING", new JsonObject().put("retried", true));
            return Future.succeededFuture(now);
          }
          if ("FAILED".equals(now.getString("status")) || "CANCELLED".equals(now.getString("status"))) {
            return Future.failedFuture(busy(1));
          }
          return Future.failedFuture(new ServiceError(409, "job " + id + " is " + now.getString("status")
            + " already; only a FAILED or CANCELLED job can be retried", null));
        }));
    });
  }

  /**
   * A batch: {@code {"n":[..],"algorithm":..,...}}, one job per n, the other fields shared; all stored or none (503
   * when they do not all fit under jobs.maxPending).
   */
  public Future<JsonObject> batch(Object body, String traceparent) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    List<JobRequest> requests;
    try {
      requests = batchRequests(body);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    }
    String batchId = newId();
    List<String> ids = new ArrayList<>();
    List<Tuple> rows = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      String id = newId();
      JobRequest request = requests.get(i);
      ids.add(id);
      // the room is checked once for all, in the transaction below
      rows.add(insertRow(id, request, request.delayed() ? "SCHEDULED" : "PENDING", null, null, batchId, i, traceparent,
        Integer.MAX_VALUE));
    }
    int size = requests.size();
    return database.bounded(pool.withTransaction(conn -> conn.preparedQuery(Sql.JOBS_WAITING).execute()
      .compose(waiting -> {
        long now = waiting.iterator().next().getLong(0);
        if (now + size > maxPending) {
          return Future.failedFuture(busy(size));
        }
        return conn.preparedQuery(Sql.JOB_INSERT).executeBatch(rows)
          .compose(v -> conn.preparedQuery(Sql.BATCH_INSERT).execute(Tuple.of(batchId, size)));
      })))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .map(v -> {
        vertx.eventBus().publish(Addresses.JOBS_WAKEUP, batchId);
        return new JsonObject().put("id", batchId).put("size", size).put("status", "PENDING")
          .put("jobs", new JsonArray(ids));
      });
  }

  private List<JobRequest> batchRequests(Object body) {
    if (!(body instanceof JsonObject json) || !(json.getValue("n") instanceof JsonArray ns)) {
      throw ServiceError.badRequest("a batch is a JSON object like {\"n\":[10,20,30],\"algorithm\":\"doubling\"}: n is"
        + " an array of whole numbers, the other fields (algorithm, priority, delayMs or runAt, timeoutMs, maxAttempts)"
        + " are shared by its jobs", new JsonObject().put("param", "n"));
    }
    if (ns.isEmpty() || ns.size() > maxBatch) {
      throw ServiceError.badRequest("a batch has 1 to " + maxBatch + " jobs (jobs.maxBatch), got " + ns.size(),
        new JsonObject().put("param", "n").put("limit", Settings.JOBS_MAX_BATCH.name()).put("max", maxBatch));
    }
    List<JobRequest> requests = new ArrayList<>(ns.size());
    for (int i = 0; i < ns.size(); i++) {
      JsonObject one = json.copy().put("n", ns.getValue(i));
      try {
        requests.add(JobRequest.fromJson(one, limits));
      } catch (ServiceError e) {
        JsonObject detail = e.detail() == null ? new JsonObject() : e.detail().copy();
        throw ServiceError.badRequest("job " + i + " of the batch: " + e.getMessage(), detail.put("index", i));
      }
    }
    return requests;
  }

  /** A batch's state: DONE once all its jobs are, and each job's status. */
  public Future<JsonObject> batchStatus(String batchId) {
    return batchJobs(batchId).map(batch -> {
      JsonObject counts = new JsonObject();
      JsonArray jobs = batch.getJsonArray("jobs");
      for (int i = 0; i < jobs.size(); i++) {
        String status = jobs.getJsonObject(i).getString("status");
        counts.put(status, counts.getInteger(status, 0) + 1);
      }
      return batch.put("status", batchState(counts, jobs.size())).put("counts", counts);
    });
  }

  /**
   * DONE when every job is; FAILED when every job finished and one did not end DONE; RUNNING while one runs or some
   * finished; PENDING while all wait.
   */
  static String batchState(JsonObject counts, int size) {
    int done = counts.getInteger("DONE", 0);
    int finished = done + counts.getInteger("FAILED", 0) + counts.getInteger("CANCELLED", 0);
    if (done == size) {
      return "DONE";
    }
    if (finished == size) {
      return "FAILED";
    }
    return counts.getInteger("RUNNING", 0) > 0 || finished > 0 ? "RUNNING" : "PENDING";
  }

  private Future<JsonObject> batchJobs(String batchId) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    if (batchId == null || !batchId.matches(ID)) {
      return Future.failedFuture(noBatch(batchId));
    }
    return database.bounded(pool.preparedQuery(Sql.BATCH_BY_ID).execute(Tuple.of(batchId)))
      .compose(batch -> batch.size() == 0 ? Future.failedFuture(noBatch(batchId))
        : database.bounded(pool.preparedQuery(Sql.BATCH_JOBS).execute(Tuple.of(batchId))).map(rows -> {
          Row b = batch.iterator().next();
          JsonArray jobs = new JsonArray();
          rows.forEach(row -> jobs.add(toJson(row)));
          return new JsonObject().put("id", batchId).put("size", b.getInteger("size"))
            .put("createdAt", instant(b.getLocalDateTime("created_at"))).put("jobs", jobs);
        }))
      .recover(e -> Future.failedFuture(Database.failure(e)));
  }

  private static ServiceError noBatch(String id) {
    return new ServiceError(ServiceError.NOT_FOUND, "no batch with id '" + (id == null ? "" : Text.abbreviate(id))
      + "'", null);
  }

  /**
   * A batch's results as NDJSON, one line per job in the batch's order: {@code {"id","n","status","value"}} for a DONE
   * job (its digits streamed chunk by chunk), {@code {"id","n","status","error"}} for the others.
   */
  public Future<Void> streamBatch(String batchId, Runnable start, WriteStream<Buffer> out) {
    return batchJobs(batchId).compose(batch -> {
      start.run();
      return writeLines(batch.getJsonArray("jobs"), 0, out);
    });
  }

  private Future<Void> writeLines(JsonArray jobs, int index, WriteStream<Buffer> out) {
    if (index == jobs.size()) {
      return Future.succeededFuture();
    }
    JsonObject job = jobs.getJsonObject(index);
    JsonObject head = new JsonObject().put("id", job.getString("id")).put("n", job.getInteger("n"))
      .put("status", job.getString("status"));
    Future<Void> line;
    if ("DONE".equals(job.getString("status"))) {
      String open = head.encode();
      // {"id":..,"status":"DONE","value":" then the digits, which need no escaping, then "}
      line = out.write(Buffer.buffer(open.substring(0, open.length() - 1) + ",\"value\":\""))
        .compose(v -> writeChunks(job.getString("id"), 0, chunks(job.getInteger("digits")), out))
        .compose(v -> out.write(Buffer.buffer("\"}\n")));
    } else {
      line = out.write(head.put("error", job.getString("error")).toBuffer().appendString("\n"));
    }
    return line.compose(v -> writeLines(jobs, index + 1, out));
  }

  private static int chunks(int digits) {
    return (digits + CHUNK - 1) / CHUNK;
  }

  /**
   * Streams a DONE job's digits (and a final newline) to {@code out}, one stored chunk at a time, each
   * written only when the previous one has been taken: millions of digits never sit in memory twice.
   *
   * @param start called once with the total length, before the first byte (to set Content-Length)
   */
  public Future<Void> streamResult(String id, LongConsumer start, WriteStream<Buffer> out) {
    return status(id).compose(job -> {
      if (!"DONE".equals(job.getString("status"))) {
        String why = "FAILED".equals(job.getString("status")) ? ": " + job.getString("error") : "";
        return Future.failedFuture(new ServiceError(409, "job " + id + " is " + job.getString("status") + why
          + "; its result exists once it is DONE", null));
      }
      int digits = job.getInteger("digits");
      start.accept(digits + 1L);
      return writeChunks(id, 0, chunks(digits), out).compose(v -> out.write(Buffer.buffer("\n")));
    });
  }

  private Future<Void> writeChunks(String id, int seq, int chunks, WriteStream<Buffer> out) {
    if (seq == chunks) {
      return Future.succeededFuture();
    }
    return database.bounded(pool.preparedQuery(Sql.JOB_CHUNK).execute(Tuple.of(id, seq)))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.failedFuture(new ServiceError(ServiceError.INTERNAL, "job " + id + " lacks result chunk " + seq,
            null));
        }
        return out.write(Buffer.buffer(rows.iterator().next().getString(0)));
      })
      .compose(v -> writeChunks(id, seq + 1, chunks, out));
  }

  // --- for operators (the ops port)

  /**
   * One page of jobs, newest first: {@code {"jobs":[..],"next":cursor|null}}; a status and a priority narrow it, the
   * cursor (from the previous page's {@code next}) goes on after that page.
   */
  public Future<JsonObject> page(String status, String priority, String limit, String cursor) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    Integer wantedPriority;
    int rows;
    Cursor after;
    try {
      if (status != null && !JobStatus.NAMES.contains(status)) {
        throw ServiceError.badRequest("status must be one of " + JobStatus.NAMES + ", got '" + Text.abbreviate(status)
          + "'", new JsonObject().put("param", "status"));
      }
      wantedPriority = priority == null ? null : (int) JobRequest.whole(new JsonObject().put("priority",
        parseWhole(priority, "priority")), "priority", JobRequest.MIN_PRIORITY, JobRequest.MAX_PRIORITY, null, 0);
      rows = limit == null ? Math.min(20, maxPageSize) : (int) JobRequest.whole(new JsonObject().put("limit",
        parseWhole(limit, "limit")), "limit", 1, maxPageSize, Settings.JOBS_MAX_PAGE_SIZE, 0);
      after = cursor == null ? Cursor.FIRST : Cursor.parse(cursor);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    }
    Tuple params = status == null ? Tuple.tuple() : Tuple.of(status);
    params.addValue(after.createdAt()).addValue(after.createdAt()).addValue(after.id())
      .addValue(wantedPriority).addValue(wantedPriority).addValue(rows + 1);
    return database.bounded(pool.preparedQuery(status == null ? Sql.JOBS_PAGE : Sql.JOBS_PAGE_OF_STATUS).execute(params))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .map(found -> {
        JsonArray jobs = new JsonArray();
        Row last = null;
        int i = 0;
        for (Row row : found) {
          if (i++ == rows) {
            break;
          }
          jobs.add(toJson(row));
          last = row;
        }
        String next = found.size() > rows && last != null
          ? new Cursor(last.getLocalDateTime("created_at"), last.getString("id")).encode() : null;
        return new JsonObject().put("jobs", jobs).put("next", next);
      });
  }

  /** A query parameter that should be a whole number, as a Long for the range check, else 400. */
  private static Object parseWhole(String text, String param) {
    return text.matches("-?\\d{1,18}") ? (Object) Long.parseLong(text) : text;
  }

  /**
   * Counts by status, the wait of the job that became runnable first, and the run times of the last finished runs:
   * {@code {"counts":{..},"oldestWaitingMs":..,"runTimeMs":{"runs","p50","p90","p99","max"}}}.
   */
  public Future<JsonObject> stats() {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    Future<JsonObject> counts = database.bounded(pool.preparedQuery(Sql.JOB_COUNT_BY_STATUS).execute()).map(rows -> {
      JsonObject json = new JsonObject();
      JobStatus.NAMES.forEach(s -> json.put(s, 0L));
      rows.forEach(row -> json.put(row.getString(0), row.getLong(1)));
      return json;
    });
    Future<Long> oldest = database.bounded(pool.preparedQuery(Sql.JOB_OLDEST_WAITING_MS).execute())
      .map(rows -> rows.iterator().next().getLong(0));
    Future<JsonObject> runTimes = database.bounded(pool.preparedQuery(Sql.JOB_RUN_TIMES)
        .execute(Tuple.of(RUN_TIME_SAMPLE)))
      .map(rows -> {
        List<Long> micros = new ArrayList<>();
        rows.forEach(row -> micros.add(row.getLong(0)));
        return percentiles(micros);
      });
    return Future.all(counts, oldest, runTimes)
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .map(all -> new JsonObject().put("counts", counts.result()).put("oldestWaitingMs", oldest.result())
        .put("runTimeMs", runTimes.result()));
  }

  /** p50, p90, p99 and max of run times in microseconds, in milliseconds; nulls when there are none. */
  static JsonObject percentiles(List<Long> micros) {
    List<Long> sorted = new ArrayList<>(micros);
    sorted.sort(null);
    JsonObject json = new JsonObject().put("runs", sorted.size());
    for (int p : new int[] {50, 90, 99}) {
      json.put("p" + p, sorted.isEmpty() ? null : sorted.get(Math.max(0, (int) Math.ceil(p / 100.0 * sorted.size()) - 1))
        / 1000.0);
    }
    return json.put("max", sorted.isEmpty() ? null : sorted.get(sorted.size() - 1) / 1000.0);
  }

  /** Where a page of jobs goes on: after this (created_at, id), newest first. */
  record Cursor(LocalDateTime createdAt, String id) {

    /** Before every job: the first page. */
    static final Cursor FIRST = new Cursor(LocalDateTime.of(9999, 12, 31, 0, 0), "g");

    String encode() {
      return createdAt.toInstant(ZoneOffset.UTC).toEpochMilli() + "-" + id;
    }

    static Cursor parse(String text) {
      if (text.matches("\\d{1,15}-" + ID)) {
        int dash = text.indexOf('-');
        return new Cursor(LocalDateTime.ofInstant(Instant.ofEpochMilli(Long.parseLong(text.substring(0, dash))),
          ZoneOffset.UTC), text.substring(dash + 1));
      }
      throw ServiceError.badRequest("cursor must be the next of a previous page, got '" + Text.abbreviate(text) + "'",
        new JsonObject().put("param", "cursor"));
    }
  }

  static ServiceError notFound(String id) {
    return new ServiceError(ServiceError.NOT_FOUND, "no job with id '" + (id == null ? "" : Text.abbreviate(id)) + "'", null);
  }

  static JsonObject toJson(Row row) {
    JsonObject json = new JsonObject()
      .put("id", row.getString("id"))
      .put("n", row.getInteger("n"))
      .put("algorithm", row.getString("algorithm"))
      .put("status", row.getString("status"))
      .put("digits", row.getInteger("digits"))
      .put("error", row.getString("error"))
      // how many times a runner took it, over every series of attempts
      .put("attempts", row.getInteger("attempts"))
      .put("createdAt", instant(row.getLocalDateTime("created_at")))
      .put("startedAt", instant(row.getLocalDateTime("started_at")))
      .put("finishedAt", instant(row.getLocalDateTime("finished_at")))
      .put("priority", row.getInteger("priority"))
      .put("runAt", instant(row.getLocalDateTime("run_at")))
      .put("timeoutMs", row.getInteger("timeout_ms"))
      .put("maxAttempts", row.getInteger("max_attempts"))
      .put("failures", row.getInteger("failures"));
    String batch = row.getString("batch_id");
    if (batch != null) {
      json.put("batchId", batch);
    }
    return json;
  }

  /** Stored as UTC DATETIME; shown as ISO-8601 instants. */
  static String instant(LocalDateTime utc) {
    return utc == null ? null : utc.toInstant(ZoneOffset.UTC).toString();
  }
}
