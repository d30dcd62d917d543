package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Traces;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP responses: a JSON body {"error": "...", "detail": {...}}
 * with the status the failure carries, in words also where vertx-web or Vert.x made the status (413, 414, 431, ...).
 * 503 adds Retry-After; with tracing on, the body names the request's trace ({@code traceId}). Only unexpected (500)
 * failures are logged, with their stack trace; a client's mistake (a
 * malformed request, a body that breaks off) costs at most one DEBUG line.
 */
final class Errors {

  private static final Logger log = LoggerFactory.getLogger(Errors.class);
  private static final CharSequence RETRY_AFTER_SECONDS = HttpHeaders.createOptimized("1");

  private Errors() {
  }

  /** @param connections tells whether a failure came from the client's side of the connection */
  static void install(Router router, Settings settings, Connections connections) {
    router.route().failureHandler(ctx -> handle(ctx, settings, connections));
    router.errorHandler(404, ctx -> send(ctx, new ServiceError(404, "no such resource: "
      + ctx.request().method() + " " + ctx.request().path(), null)));
    router.errorHandler(405, ctx -> {
      String allow = AllowedMethods.header(AllowedMethods.of(router, ctx.normalizedPath()));
      ctx.response().putHeader(HttpHeaders.ALLOW, allow);
      send(ctx, new ServiceError(405, "method " + ctx.request().method() + " is not allowed on " + ctx.request().path(),
        null));
    });
    router.errorHandler(406, ctx -> send(ctx, new ServiceError(406, "cannot produce any type the Accept header"
      + " asks for; this resource produces application/json or text/plain", null)));
    // the router's own matching failed on the request (it is checked earlier, in HttpVerticle.admit: a backstop)
    router.errorHandler(400, ctx -> send(ctx, ServiceError.badRequest("the request URI is not valid", null)));
    router.errorHandler(500, ctx -> handle(ctx, settings, connections));
  }

  private static void handle(RoutingContext ctx, Settings settings, Connections connections) {
    Throwable failure = ctx.failure();
    ServiceError error;
    if (failure == null || failure instanceof HttpException) {
      error = fromStatus(ctx.statusCode() > 0 ? ctx.statusCode() : 500, (HttpException) failure, settings);
    } else if (failure instanceof ServiceError || !connections.clientFault(ctx.request(), failure)) {
      error = ServiceError.from(failure);
      if (error.status() == ServiceError.INTERNAL) {
        log.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
      }
    } else {
      log.debug("{} {}: the request could not be read: {}", ctx.request().method(), ctx.request().path(),
        Text.oneLine(failure.getMessage()));
      send(ctx, ServiceError.badRequest("the request could not be read: " + Text.oneLine(failure.getMessage()), null));
      // Vert.x closes a connection that failed to decode right after this, before its usual flush
      Connections.flush(ctx.request().connection());
      return;
    }
    send(ctx, error);
  }

  /** A status that vertx-web set without words of its own (a limit of its handlers, mostly). */
  private static ServiceError fromStatus(int status, HttpException e, Settings settings) {
    return switch (status) {
      case 413 -> limit(413, "the request body is larger than http.maxBodyBytes", Settings.HTTP_MAX_BODY, settings);
      case 417 -> new ServiceError(417, "only the expectation 'Expect: 100-continue' is supported", null);
      case 416 -> new ServiceError(416, "the requested range is not within the file", null);
      case 500 -> new ServiceError(500, "internal error", null);
      default -> new ServiceError(status, e != null && e.getPayload() != null ? e.getPayload()
        : "the request failed: " + HttpResponseStatus.valueOf(status).reasonPhrase(), null);
    };
  }

  /** A size limit passed: the message names the key and its value in bytes. */
  private static ServiceError limit(int status, String what, Key key, Settings settings) {
    int max = settings.getInt(key);
    return new ServiceError(status, what + " (" + max + " bytes)",
      new JsonObject().put("limit", key.name()).put("max", max));
  }

  /**
   * Requests that Vert.x's decoder could not read (Vert.x would answer them with an empty body): the status in
   * words, then the connection closes, as Vert.x does, since what follows on it cannot be trusted.
   */
  static void invalidRequest(HttpServerRequest request, Settings settings) {
    Throwable cause = request.decoderResult().cause();
    ServiceError error;
    if (cause instanceof TooLongHttpLineException) {
      error = limit(414, "the request line is longer than http.maxUriBytes", Settings.HTTP_MAX_URI, settings);
    } else if (cause instanceof TooLongHttpHeaderException) {
      error = limit(431, "the request headers are larger than http.maxHeaderBytes", Settings.HTTP_MAX_HEADERS,
        settings);
    } else {
      error = ServiceError.badRequest("the request is not valid HTTP/1.1: "
        + Text.oneLine(cause == null ? "" : cause.getMessage()), null);
    }
    HttpServerResponse response = request.response();
    HttpVerticle.traceparent(response);
    response.setStatusCode(error.status()).putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
      .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).end(body(error, false).toBuffer());
    request.connection().close();
  }

  static void send(RoutingContext ctx, ServiceError error) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    JsonObject body = body(error, ctx.request().path().startsWith("/people"));
    response.setStatusCode(error.status()).putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON);
    if (error.status() == ServiceError.UNAVAILABLE) {
      response.putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
    }
    response.end(body.toBuffer());
  }

  private static JsonObject body(ServiceError error, boolean people) {
    JsonObject body = new JsonObject();
    if (people) {
      // the people API's envelope
      body.put("status", "fail").put("result", new JsonObject());
    }
    body.put("error", error.getMessage());
    if (error.detail() != null) {
      body.put("detail", error.detail());
    }
    // with tracing on, the trace a person can quote when reporting the error (the traceparent header has it too)
    String traceId = Traces.currentTraceId();
    if (traceId != null) {
      body.put("traceId", traceId);
    }
    return body;
  }
}
