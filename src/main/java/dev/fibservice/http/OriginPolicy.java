package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Settings;
import dev.fibservice.net.Origins;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/**
 * Which web pages may call the API (CORS), and the answer to OPTIONS. Any origin may read (GET, HEAD; or only the
 * origins of {@code http.corsOrigin}); writes (POST, PUT, DELETE) come only from the service's own origin or one of
 * {@code http.corsWriteOrigins}: a write with a foreign {@code Origin} gets 403 and its preflight is refused, so a page
 * on the internet cannot drive a service on the user's own 127.0.0.1. Requests without an {@code Origin} (curl, other
 * services) are no browser's cross-origin calls and pass untouched. A plain OPTIONS gets the path's {@code Allow}.
 */
final class OriginPolicy implements Handler<RoutingContext> {

  private static final CharSequence ORIGIN = HttpHeaders.ORIGIN;
  private static final String ALLOW_HEADERS = "Content-Type, Accept, X-Request-Id, Idempotency-Key";
  private static final String EXPOSE_HEADERS = "Location, X-Request-Id, Retry-After, X-Served-By, X-Event-Loop";
  private static final String READ_METHODS = "GET, HEAD";
  private static final String ALL_METHODS = "GET, HEAD, POST, PUT, DELETE";
  private static final String MAX_AGE_SECONDS = "600";

  private final Router router;
  private final Origins origins;
  private final boolean anyReader;

  OriginPolicy(Router router, Settings settings) {
    this.router = router;
    this.origins = new Origins(settings);
    this.anyReader = origins.anyReader();
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String origin = request.getHeader(ORIGIN);
    HttpMethod method = request.method();
    if (method == HttpMethod.OPTIONS) {
      String asked = request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD);
      if (origin != null && asked != null) {
        HttpMethod requested;
        try {
          requested = HttpMethod.valueOf(asked);
        } catch (IllegalArgumentException e) {
          ctx.fail(ServiceError.badRequest("Access-Control-Request-Method is not an HTTP method: '"
            + Text.oneLine(asked) + "'", new JsonObject().put("param", "Access-Control-Request-Method")));
          return;
        }
        preflight(ctx, origin, requested);
      } else {
        options(ctx, origin);
      }
      return;
    }
    if (origin == null) {
      ctx.next();
      return;
    }
    HttpServerResponse response = ctx.response();
    if (isRead(method)) {
      allowOrigin(response, origin, mayRead(origin, request));
      ctx.next();
    } else if (mayWrite(origin, request)) {
      allowOrigin(response, origin, true);
      ctx.next();
    } else {
      response.putHeader(HttpHeaders.VARY, ORIGIN);
      ctx.fail(foreignWrite(origin, method));
    }
  }

  private void preflight(RoutingContext ctx, String origin, HttpMethod asked) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response().putHeader(HttpHeaders.VARY, ORIGIN);
    boolean writer = mayWrite(origin, request);
    if (isRead(asked) ? !mayRead(origin, request) : !writer) {
      // no Access-Control-Allow-Origin: the browser does not send the request
      Errors.send(ctx, isRead(asked) ? foreignRead(origin) : foreignWrite(origin, asked));
      return;
    }
    response
      .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, anyReader ? "*" : origin)
      .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, writer ? ALL_METHODS : READ_METHODS)
      .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
      .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS)
      .putHeader(HttpHeaders.CONTENT_LENGTH, "0")
      .setStatusCode(204)
      .end();
  }

  /** A plain OPTIONS (RFC 9110 9.3.7): the methods of the path, or 404 for a path nothing answers. */
  private void options(RoutingContext ctx, String origin) {
    Set<HttpMethod> methods = AllowedMethods.of(router, ctx.normalizedPath());
    if (methods.isEmpty()) {
      ctx.next();
      return;
    }
    HttpServerResponse response = ctx.response();
    if (origin != null) {
      allowOrigin(response, origin, mayRead(origin, ctx.request()));
    }
    response.putHeader(HttpHeaders.ALLOW, AllowedMethods.header(methods)).putHeader(HttpHeaders.CONTENT_LENGTH, "0")
      .setStatusCode(204).end();
  }

  private void allowOrigin(HttpServerResponse response, String origin, boolean allowed) {
    if (!anyReader) {
      // the answer depends on the origin: caches must keep them apart
      response.putHeader(HttpHeaders.VARY, ORIGIN);
    }
    if (allowed) {
      response.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, anyReader ? "*" : origin)
        .putHeader(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
    }
  }

  private boolean mayRead(String origin, HttpServerRequest request) {
    return origins.mayRead(origin, request.getHeader(HttpHeaders.HOST));
  }

  private boolean mayWrite(String origin, HttpServerRequest request) {
    return origins.mayWrite(origin, request.getHeader(HttpHeaders.HOST));
  }

  private static boolean isRead(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS;
  }

  private static ServiceError foreignRead(String origin) {
    return new ServiceError(403, "origin " + shown(origin) + " may not read this service from a page"
      + " (http.corsOrigin)", new JsonObject().put("origin", shown(origin)).put("key", "http.corsOrigin"));
  }

  private static ServiceError foreignWrite(String origin, HttpMethod method) {
    return new ServiceError(403, "origin " + shown(origin) + " may not send " + method.name() + " requests to this"
      + " service: writes are accepted from its own origin and from http.corsWriteOrigins only",
      new JsonObject().put("origin", shown(origin)).put("method", method.name()).put("key", "http.corsWriteOrigins"));
  }

  private static String shown(String origin) {
    return Origins.shown(origin);
  }
}
