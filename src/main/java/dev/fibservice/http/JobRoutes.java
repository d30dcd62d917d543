package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.jobs.Jobs;
import dev.fibservice.ops.Traces;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The background-jobs API of the public port: submit (one job or a batch), look, cancel, retry, and stream the results.
 * A job is reached through its id alone: listing jobs is for operators ({@link OpsJobRoutes}, the ops port).
 */
final class JobRoutes {

  static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  static final CharSequence NDJSON = HttpHeaders.createOptimized("application/x-ndjson");

  private final Jobs jobs;

  JobRoutes(Jobs jobs) {
    this.jobs = jobs;
  }

  /** The routes; POST /jobs and POST /jobs/batch need the JSON body handlers before them (HttpVerticle). */
  void mount(Router router) {
    router.post("/jobs").handler(this::submit);
    router.post("/jobs/batch").handler(this::batch);
    router.get("/jobs/batch/:id").handler(ctx -> json(ctx, 200, jobs.batchStatus(ctx.pathParam("id"))));
    router.get("/jobs/batch/:id/results").handler(this::batchResults);
    router.get("/jobs/:id").handler(ctx -> json(ctx, 200, jobs.status(ctx.pathParam("id"))));
    router.delete("/jobs/:id").handler(ctx -> json(ctx, 200, jobs.cancel(ctx.pathParam("id"))));
    router.get("/jobs/:id/attempts").handler(ctx -> json(ctx, 200, jobs.attempts(ctx.pathParam("id"))));
    router.post("/jobs/:id/retry").handler(ctx -> json(ctx, 200, jobs.retry(ctx.pathParam("id"))));
    router.get("/jobs/:id/result").handler(this::result);
  }

  /** 202 and the new job, or 200 and the job an Idempotency-Key already named. */
  private void submit(RoutingContext ctx) {
    Object body;
    try {
      body = body(ctx.body().asString());
    } catch (ServiceError e) {
      ctx.fail(e);
      return;
    }
    jobs.submit(body, ctx.request().getHeader(IDEMPOTENCY_KEY), Traces.currentTraceparent()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      JsonObject job = ar.result().job();
      ctx.response().setStatusCode(ar.result().created() ? 202 : 200)
        .putHeader(HttpHeaders.LOCATION, "/jobs/" + job.getString("id"))
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
        .end(job.toBuffer());
    });
  }

  /** A submitted body as {@link Jobs#submit} takes it: a JSON object, null when blank, or a 400. */
  static Object body(String text) {
    try {
      return text == null || text.isBlank() ? null : new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw ServiceError.badRequest("the body is not a JSON object like {\"n\":1000000,\"algorithm\":\"doubling\"}",
        new JsonObject().put("param", "body"));
    }
  }

  private void batch(RoutingContext ctx) {
    Object body;
    try {
      body = body(ctx.body().asString());
    } catch (ServiceError e) {
      ctx.fail(e);
      return;
    }
    json(ctx, 202, jobs.batch(body, Traces.currentTraceparent()).onSuccess(batch -> ctx.response()
      .putHeader(HttpHeaders.LOCATION, "/jobs/batch/" + batch.getString("id"))));
  }

  /** NDJSON, one line per job of the batch, each DONE job's digits streamed chunk by chunk. */
  private void batchResults(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    jobs.streamBatch(ctx.pathParam("id"), () -> response.setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, NDJSON), response)
      .onComplete(ar -> ended(ctx, ar));
  }

  private void result(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    jobs.streamResult(ctx.pathParam("id"), length -> response
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.TEXT_PLAIN)
        .putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(length)), response)
      .onComplete(ar -> ended(ctx, ar));
  }

  private static void ended(RoutingContext ctx, io.vertx.core.AsyncResult<Void> ar) {
    HttpServerResponse response = ctx.response();
    if (ar.succeeded()) {
      response.end();
    } else if (!response.headWritten()) {
      ctx.fail(ar.cause());
    } else {
      // part of the body is out: all that is left is to cut the connection, so the client sees it is short
      response.reset();
    }
  }

  static void json(RoutingContext ctx, int status, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
          .end(ar.result().toBuffer());
      }
    });
  }
}
