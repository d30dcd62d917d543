package dev.fibservice.http;

import dev.fibservice.NodeInfo;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.net.Wire;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.concurrent.TimeUnit;

/**
 * The operations endpoints alone ({@code /health/live}, {@code /health/ready}, {@code /metrics}, {@code /info}) on a
 * port of their own (ops.port): what probes and scrapers reach on a member without HTTP (role worker), or away from
 * a front's public port. It keeps serving while the node drains, so readiness can say so.
 */
public final class OpsVerticle extends VerticleBase {

  private final NodeInfo node;
  private HttpServer server;

  public OpsVerticle(NodeInfo node) {
    this.node = node;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    // a count of their own: probes still get in while the HTTP servers are at http.maxConnections
    Connections connections = new Connections(vertx, "fib.ops.connections", settings.getInt(Settings.HTTP_MAX_CONNECTIONS),
      settings.getInt(Settings.HTTP_HEADER_TIMEOUT_MS));
    Router router = Router.router(vertx);
    Database database = node.database();
    OpsRoutes.mount(vertx, router, node, database.enabled() ? database.pool(vertx) : null);
    router.get("/info").handler(ctx -> {
      JsonObject info = node.toJson().put("servedBy", "ops");
      ClusterView cluster = ClusterView.of(vertx);
      if (cluster != null) {
        info.put("cluster", cluster.toJson());
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(info.toBuffer());
    });
    AllowedMethods.headWhereGet(router);
    Errors.install(router, settings, connections);
    HttpServerOptions options = new HttpServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(settings.getInt(Settings.OPS_PORT))
      .setHttp2ClearTextEnabled(false)
      .setMaxInitialLineLength(settings.getInt(Settings.HTTP_MAX_URI))
      .setMaxHeaderSize(settings.getInt(Settings.HTTP_MAX_HEADERS))
      .setIdleTimeout(settings.getInt(Settings.HTTP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
    return vertx.createHttpServer(options)
      .invalidRequestHandler(request -> Errors.invalidRequest(request, settings))
      .connectionHandler(connection -> {
        Wire.guardHttp(connection, options);
        connections.opened(connection);
      })
      .requestHandler(request -> {
        if (!connections.requestStarted(request)) {
          request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE).setStatusCode(503)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(new JsonObject().put("error", "too many connections (" + settings.getInt(Settings.HTTP_MAX_CONNECTIONS)
              + ", http.maxConnections); retry shortly").put("detail", new JsonObject()).toBuffer())
            .onComplete(ar -> request.connection().close());
          return;
        }
        request.response().endHandler(v -> connections.requestEnded(request));
        router.handle(request);
      })
      .listen()
      .onSuccess(s -> server = s);
  }

  /** The port it listens on, once started. */
  public int actualPort() {
    return server.actualPort();
  }
}
