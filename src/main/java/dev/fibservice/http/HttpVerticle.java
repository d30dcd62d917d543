package dev.fibservice.http;

import dev.fibservice.Addresses;
import dev.fibservice.NodeInfo;
import dev.fibservice.ServiceError;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.cluster.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Parses, routes and replies; never computes and never blocks. One instance per event loop, all on
 * one port. Fibonacci requests go to the workers over the event bus.
 */
public final class HttpVerticle extends VerticleBase {

  static final CharSequence TEXT_HTML = HttpHeaders.createOptimized("text/html; charset=utf-8");
  static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain; charset=utf-8");
  static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("X-Request-Id");

  private final NodeInfo node;
  private final int port;
  private final String name;
  private HttpServer server;
  private HelloPages pages;
  private FibRequest.Limits limits;
  private int maxRepeat;
  private ComputeClient fib;

  /**
   * @param port the port to listen on (0 picks one; the first instance's choice is then given to the others)
   * @param name this instance's name in logs and responses, e.g. {@code http-1}
   */
  public HttpVerticle(NodeInfo node, int port, String name) {
    this.node = node;
    this.port = port;
    this.name = name;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    maxRepeat = settings.getInt(Settings.HELLO_MAX_REPEAT);
    pages = HelloPages.atLeast(maxRepeat);
    limits = FibRequest.Limits.from(settings);
    fib = ComputeClient.create(vertx, settings);

    Router router = Router.router(vertx);
    router.get("/hello").handler(this::hello);
    router.get("/fib/:n").produces("application/json").produces("text/plain").handler(this::fib);
    router.get("/info").handler(this::info);
    Errors.install(router);

    HttpServerOptions options = new HttpServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(port)
      // HTTP/1.1 only: no h2c upgrade dance for clients that offer it, one connection model to drain
      .setHttp2ClearTextEnabled(false);
    return vertx.createHttpServer(options)
      .requestHandler(router)
      .listen()
      .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    // stop accepting; in-flight requests finish (HTTP/1.1 connections close after their response)
    return server.shutdown(node.settings().getInt(Settings.SHUTDOWN_GRACE_MS), TimeUnit.MILLISECONDS);
  }

  /** The port this instance listens on, once started. */
  public int actualPort() {
    return server.actualPort();
  }

  private void hello(RoutingContext ctx) {
    int repeat = 1;
    String raw = ctx.request().getParam("repeat");
    if (raw != null) {
      repeat = parseRepeat(raw);
    }
    ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, TEXT_HTML)
      .end(pages.page(repeat));
  }

  private int parseRepeat(String raw) {
    if (raw.matches("\\d{1,9}")) {
      int value = Integer.parseInt(raw);
      if (value >= 1 && value <= maxRepeat) {
        return value;
      }
    }
    throw ServiceError.badRequest("repeat must be a whole number from 1 to " + maxRepeat + " (http.maxRepeat), got '"
        + (raw.length() > 40 ? raw.substring(0, 37) + "..." : raw) + "'",
      new JsonObject().put("param", "repeat").put("min", 1).put("max", maxRepeat));
  }

  private void fib(RoutingContext ctx) {
    MultiMap query = ctx.queryParams();
    FibRequest request = FibRequest.parse(ctx.pathParam("n"), query.get("algorithm"), limits);
    boolean text = "text/plain".equals(ctx.getAcceptableContentType());
    String id = requestId(ctx);
    HttpServerResponse response = ctx.response();
    response.putHeader(X_REQUEST_ID, id);
    response.closeHandler(v -> {
      if (!response.ended()) {
        // the client gave up: stop burning CPU for it
        vertx.eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", id));
      }
    });
    fib.compute(request, id)
      .onComplete(ar -> {
        if (response.closed()) {
          return;
        }
        if (ar.failed()) {
          ctx.fail(ServiceError.from(ar.cause()));
          return;
        }
        JsonObject result = ar.result();
        if (text) {
          response.putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN).end(result.getString("value") + "\n");
        } else {
          response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(result.toBuffer());
        }
      });
  }

  private void info(RoutingContext ctx) {
    JsonObject info = node.toJson().put("servedBy", name);
    ClusterView cluster = ClusterView.of(vertx);
    if (cluster != null) {
      info.put("cluster", cluster.toJson());
    }
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(info.toBuffer());
  }

  private static String requestId(RoutingContext ctx) {
    String id = ctx.request().getHeader(X_REQUEST_ID);
    if (id != null && !id.isEmpty() && id.length() <= 128) {
      return id;
    }
    return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
  }
}
