package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Settings;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.MimeMapping;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

import java.util.Locale;

/**
 * The HTTP rules that routes share, where Vert.x and vertx-web fall short of what clients expect: HEAD with the
 * headers of GET, URIs refused in words when not valid, JSON-only bodies, a body deadline that names its key.
 */
final class HttpRules {

  static final String UTF_8 = "UTF-8";

  private HttpRules() {
  }

  /**
   * A path or query that is not valid percent-encoding (RFC 3986), e.g. {@code %zz}: refused here, in words, before
   * vertx-web's matching or a handler trips over it (as an error with a stack trace in the log, or a 500).
   */
  static ServiceError badUri(RoutingContext ctx) {
    String part = "path";
    try {
      ctx.normalizedPath();
      escapes(ctx.request().path());
      if (ctx.request().query() != null) {
        part = "query";
        ctx.queryParams();
        escapes(ctx.request().query());
      }
      return null;
    } catch (RuntimeException e) {
      Throwable why = e.getCause() != null ? e.getCause() : e;
      return ServiceError.badRequest("the request's " + part + " is not valid percent-encoding (RFC 3986): "
        + Text.oneLine(why.getMessage()), new JsonObject().put("param", part));
    }
  }

  /**
   * Refuses a '%' that does not start two hex digits (RFC 3986, section 2.1). vertx-web's decoder takes "%%" for "%"
   * and drops the rest of the segment after it ({@code /people/a%%bc} named the person "a%"); found by fuzzing.
   */
  static void escapes(String text) {
    for (int i = text.indexOf('%'); i >= 0; i = text.indexOf('%', i + 1)) {
      if (i + 2 >= text.length() || hex(text.charAt(i + 1)) < 0 || hex(text.charAt(i + 2)) < 0) {
        throw new IllegalArgumentException("'%' at index " + i + " does not start an escape of two hex digits");
      }
    }
  }

  /** The value of an ASCII hex digit, or -1. */
  static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
      : -1;
  }

  /**
   * HEAD answers with the headers GET would send (RFC 9110 9.3.2), but Vert.x sets no Content-Length for HEAD: the
   * body a handler wrote (and Vert.x did not send) tells it.
   */
  static void headContentLength(HttpServerResponse response) {
    int status = response.getStatusCode();
    if (status >= 200 && status != 204 && status != 304 && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)
      && !response.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(response.bytesWritten()));
    }
  }

  /** StaticHandler (vertx-web 5.0.10) answers HEAD without the Content-Type of its GET: the same one, from the name. */
  static final Handler<RoutingContext> HEAD_CONTENT_TYPE = HttpRules::headContentType;

  private static void headContentType(RoutingContext ctx) {
    if (ctx.request().method() == HttpMethod.HEAD) {
      String path = ctx.normalizedPath();
      String type = MimeMapping.mimeTypeForFilename(path.endsWith("/") ? path + "index.html" : path);
      if (type != null) {
        String value = type.startsWith("text") ? type + ";charset=" + UTF_8 : type;
        ctx.addHeadersEndHandler(v -> {
          if (ctx.response().getStatusCode() == 200 && !ctx.response().headers().contains(HttpHeaders.CONTENT_TYPE)) {
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, value);
          }
        });
      }
    }
    ctx.next();
  }

  /**
   * Writes take JSON only: a form or text/plain body (what a page of another origin may send without asking first,
   * a CORS "simple" request) is refused before it is read. A platform handler: vertx-web lets only those run before
   * the BodyHandler.
   */
  static final PlatformHandler REQUIRE_JSON = HttpRules::requireJson;

  private static void requireJson(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    int semicolon = type == null ? -1 : type.indexOf(';');
    String media = type == null ? "" : (semicolon < 0 ? type : type.substring(0, semicolon)).trim();
    if (!media.toLowerCase(Locale.ROOT).equals("application/json")) {
      ctx.fail(new ServiceError(415, "the body of " + ctx.request().method() + " " + ctx.request().path()
        + " must be JSON, sent with Content-Type: application/json (got " + (type == null ? "none"
        : "'" + Text.oneLine(type) + "'") + ")", new JsonObject().put("param", "Content-Type")));
      return;
    }
    ctx.next();
  }

  /** vertx-web's TimeoutHandler, but its 503 names the limit. */
  static PlatformHandler bodyTimeout(long ms) {
    return ctx -> {
      Vertx vertx = ctx.vertx();
      long timer = vertx.setTimer(ms, t -> {
        if (!ctx.response().ended()) {
          if (!ctx.request().isEnded()) {
            ctx.request().resume();
          }
          ctx.fail(new ServiceError(ServiceError.UNAVAILABLE, "the request body did not arrive, or was not handled,"
            + " within http.bodyTimeoutMs (" + ms + " ms)",
            new JsonObject().put("limit", Settings.HTTP_BODY_TIMEOUT_MS.name()).put("max", ms)));
        }
      });
      ctx.addEndHandler(v -> vertx.cancelTimer(timer));
      ctx.next();
    };
  }
}
