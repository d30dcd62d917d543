package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;

/**
 * Background jobs as the API sees them: submit, status, cancel, and the result streamed back. The
 * same code serves HTTP ({@code /jobs}) and the event bus ({@code jobs.submit}, {@code jobs.status}).
 * Jobs and results live in the database, so they survive restarts.
 */
public final class Jobs {

  /** Result digits are stored in chunks of this many characters, and streamed back chunk by chunk. */
  static final int CHUNK = 1 << 20;
  private static final SecureRandom IDS = new SecureRandom();

  private final Vertx vertx;
  private final Pool pool;
  private final Database database;
  private final FibRequest.Limits limits;
  private final int maxPending;

  public Jobs(Vertx vertx, Pool pool, Database database, Settings settings) {
    this.vertx = vertx;
    this.pool = pool;
    this.database = database;
    this.limits = FibRequest.Limits.from(settings);
    this.maxPending = settings.getInt(Settings.JOBS_MAX_PENDING);
  }

  /** Validates like /fib, then stores a PENDING job (503 when jobs.maxPending are already waiting). */
  public Future<JsonObject> submit(Object body) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    FibRequest request;
    try {
      request = FibRequest.fromJson(body, limits);
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    }
    byte[] raw = new byte[16];
    IDS.nextBytes(raw);
    String id = HexFormat.of().formatHex(raw);
    return database.bounded(pool.preparedQuery(Sql.JOB_INSERT_IF_ROOM)
        .execute(Tuple.of(id, request.n(), request.algorithm().wireName(), maxPending)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> {
        if (rows.rowCount() == 0) {
          return Future.failedFuture(new ServiceError(ServiceError.UNAVAILABLE, "busy: " + maxPending
            + " jobs are already waiting (jobs.maxPending); retry later", null));
        }
        vertx.eventBus().publish(Addresses.JOBS_WAKEUP, id);
        return Future.succeededFuture(new JsonObject().put("id", id).put("status", "PENDING")
          .put("n", request.n()).put("algorithm", request.algorithm().wireName()));
      });
  }

  /** The job's JSON; 404 when there is no such job. */
  public Future<JsonObject> status(String id) {
    ServiceError down = database.check();
    if (down != null) {
      return Future.failedFuture(down);
    }
    if (id == null || !id.matches("[0-9a-f]{32}")) {
      return Future.failedFuture(notFound(id));
    }
    return database.bounded(pool.preparedQuery(Sql.JOB_BY_ID).execute(Tuple.of(id)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> rows.size() == 0 ? Future.failedFuture(notFound(id))
        : Future.succeededFuture(toJson(rows.iterator().next())));
  }

  /** Cancels a PENDING or RUNNING job (its computation stops); 409 once it has finished. */
  public Future<JsonObject> cancel(String id) {
    return status(id).compose(job -> database.bounded(pool.preparedQuery(Sql.JOB_CANCEL).execute(Tuple.of(id)))
      .recover(e -> Future.failedFuture(Database.failure(e)))
      .compose(rows -> {
        if (rows.rowCount() == 0) {
          return Future.failedFuture(new ServiceError(409, "job " + id + " has already finished ("
            + job.getString("status") + ") and cannot be cancelled", null));
        }
        vertx.eventBus().publish(Addresses.JOBS_CANCELLED, id);
        return status(id);
      }));
  }

  /**
   * Streams a DONE job's digits (and a final newline) to {@code out}, one stored chunk at a time, each
   * written only when the previous one has been taken: millions of digits never sit in memory twice.
   *
   * @param start called once with the total length, before the first byte (to set Content-Length)
   */
  public Future<Void> streamResult(String id, java.util.function.LongConsumer start, WriteStream<Buffer> out) {
    return status(id).compose(job -> {
      if (!"DONE".equals(job.getString("status"))) {
        String why = "FAILED".equals(job.getString("status")) ? ": " + job.getString("error") : "";
        return Future.failedFuture(new ServiceError(409, "job " + id + " is " + job.getString("status") + why
          + "; its result exists once it is DONE", null));
      }
      int digits = job.getInteger("digits");
      start.accept(digits + 1L);
      int chunks = (digits + CHUNK - 1) / CHUNK;
      return writeChunks(id, 0, chunks, out).compose(v -> out.write(Buffer.buffer("\n")));
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

  static ServiceError notFound(String id) {
    return new ServiceError(ServiceError.NOT_FOUND, "no job with id '" + (id == null ? "" : Text.abbreviate(id)) + "'", null);
  }

  static JsonObject toJson(Row row) {
    return new JsonObject()
      .put("id", row.getString("id"))
      .put("n", row.getInteger("n"))
      .put("algorithm", row.getString("algorithm"))
      .put("status", row.getString("status"))
      .put("digits", row.getInteger("digits"))
      .put("error", row.getString("error"))
      // how many times a runner took it: more than 1 after a runner gave it back (stopping) or died
      .put("attempts", row.getInteger("attempts"))
      .put("createdAt", instant(row.getLocalDateTime("created_at")))
      .put("startedAt", instant(row.getLocalDateTime("started_at")))
      .put("finishedAt", instant(row.getLocalDateTime("finished_at")));
  }

  /** Stored as UTC DATETIME; shown as ISO-8601 instants. */
  private static String instant(LocalDateTime utc) {
    return utc == null ? null : utc.toInstant(ZoneOffset.UTC).toString();
  }
}
