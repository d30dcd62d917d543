package dev.fibservice.http;

import dev.fibservice.ServiceError;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP responses: a JSON body {"error": "...", "detail": {...}}
 * with the status the failure carries. 503 adds Retry-After. Only unexpected (500) failures are logged
 * with their stack trace; client errors are the client's business.
 */
final class Errors {

  private static final Logger log = LoggerFactory.getLogger(Errors.class);
  private static final CharSequence RETRY_AFTER_SECONDS = HttpHeaders.createOptimized("1");

  private Errors() {
  }

  static void install(Router router) {
    router.route().failureHandler(Errors::handle);
    router.errorHandler(404, ctx -> send(ctx, new ServiceError(404, "no such resource: "
      + ctx.request().method() + " " + ctx.request().path(), null)));
    router.errorHandler(405, ctx -> send(ctx, new ServiceError(405, "method " + ctx.request().method()
      + " is not allowed on " + ctx.request().path(), null)));
    router.errorHandler(406, ctx -> send(ctx, new ServiceError(406, "cannot produce any type the Accept header"
      + " asks for; this resource produces application/json or text/plain", null)));
    router.errorHandler(500, Errors::handle);
  }

  private static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    ServiceError error;
    if (failure == null) {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      error = new ServiceError(status, status == 500 ? "internal error" : "request failed with status " + status,
        null);
    } else {
      error = ServiceError.from(failure);
      if (error.status() == ServiceError.INTERNAL) {
        log.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
      }
    }
    send(ctx, error);
  }

  static void send(RoutingContext ctx, ServiceError error) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    JsonObject body = new JsonObject();
    if (ctx.request().path().startsWith("/people")) {
      // the people API's envelope
      body.put("status", "fail").put("result", new JsonObject());
    }
    body.put("error", error.getMessage());
    if (error.detail() != null) {
      body.put("detail", error.detail());
    }
    response.setStatusCode(error.status()).putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON);
    if (error.status() == ServiceError.UNAVAILABLE) {
      response.putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
    }
    response.end(body.toBuffer());
  }
}
