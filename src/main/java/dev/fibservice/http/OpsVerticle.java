package dev.fibservice.http;

import dev.fibservice.config.Settings;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.net.ServerVerticle;
import dev.fibservice.net.Wire;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.ext.web.Router;

import java.util.concurrent.TimeUnit;

/**
 * The operations endpoints alone ({@code /health/live}, {@code /health/ready}, {@code /metrics}, {@code /info}) on a
 * port of their own (ops.port): what probes and scrapers reach on a member without HTTP (role worker), or away from
 * a front's public port. It keeps serving while the node drains, so readiness can say so.
 */
public final class OpsVerticle extends ServerVerticle {

  private final HttpNode node;
  private final ConnectionLimit limit;

  /** @param limit the ops port's own connections: probes still get in while HTTP is at http.maxConnections */
  public OpsVerticle(HttpNode node, ConnectionLimit limit) {
    super(node.settings());
    this.node = node;
    this.limit = limit;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    Connections connections = new Connections(vertx, limit, settings.getInt(Settings.HTTP_HEADER_TIMEOUT_MS));
    Router router = Router.router(vertx);
    OpsRoutes.mount(vertx, router, node.metrics(), node.readiness());
    router.get("/info").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
      .end(node.info().get().put("servedBy", "ops").toBuffer()));
    AllowedMethods.headWhereGet(router);
    Errors.install(router, settings, connections);
    HttpServerOptions options = new HttpServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(settings.getInt(Settings.OPS_PORT))
      // probes and scrapes are no requests worth a trace
      .setTracingPolicy(TracingPolicy.IGNORE)
      .setHttp2ClearTextEnabled(false)
      .setMaxInitialLineLength(settings.getInt(Settings.HTTP_MAX_URI))
      .setMaxHeaderSize(settings.getInt(Settings.HTTP_MAX_HEADERS))
      .setIdleTimeout(settings.getInt(Settings.HTTP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
    return listen(vertx.createHttpServer(options)
      .invalidRequestHandler(request -> Errors.invalidRequest(request, settings))
      .connectionHandler(connection -> {
        Wire.guardHttp(connection, options);
        connections.opened(connection);
      })
      .requestHandler(request -> {
        if (!connections.requestStarted(request)) {
          request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).setStatusCode(503)
            .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
            .end(new JsonObject().put("error", "too many connections (" + limit.max()
              + ", http.maxConnections); retry shortly").put("detail", new JsonObject()).toBuffer())
            .onComplete(ar -> request.connection().close());
          return;
        }
        request.response().endHandler(v -> connections.requestEnded(request));
        router.handle(request);
      }));
  }
}
