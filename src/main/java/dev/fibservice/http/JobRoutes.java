package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.jobs.Jobs;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** The background-jobs API: submit, look, cancel, and stream the result. */
final class JobRoutes {

  private final Jobs jobs;

  JobRoutes(Jobs jobs) {
    this.jobs = jobs;
  }

  void mount(Router router) {
    router.post("/jobs").handler(this::submit);
    router.get("/jobs/:id").handler(ctx -> json(ctx, 200, jobs.status(ctx.pathParam("id"))));
    router.delete("/jobs/:id").handler(ctx -> json(ctx, 200, jobs.cancel(ctx.pathParam("id"))));
    router.get("/jobs/:id/result").handler(this::result);
  }

  private void submit(RoutingContext ctx) {
    Object body;
    try {
      body = body(ctx.body().asString());
    } catch (ServiceError e) {
      ctx.fail(e);
      return;
    }
    json(ctx, 202, jobs.submit(body).onSuccess(job -> ctx.response().putHeader(HttpHeaders.LOCATION,
      "/jobs/" + job.getString("id"))));
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

  private void result(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    jobs.streamResult(ctx.pathParam("id"), length -> response
        .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.TEXT_PLAIN)
        .putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(length)), response)
      .onComplete(ar -> {
        if (ar.succeeded()) {
          response.end();
        } else if (!response.headWritten()) {
          ctx.fail(ar.cause());
        } else {
          // part of the body is out: all that is left is to cut the connection, so the client sees it is short
          response.reset();
        }
      });
  }

  private static void json(RoutingContext ctx, int status, Future<JsonObject> result) {
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
