package dev.fibservice.http;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import dev.fibservice.ops.Drain;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.sqlclient.Pool;

/**
 * What operators look at: {@code /metrics} (Prometheus text), {@code /health/live} (the process runs)
 * and {@code /health/ready} (it can serve: not draining, workers answer, the database answers when
 * it is on), in the vertx-health-check JSON format, 200 or 503, each check with its reason.
 */
final class OpsRoutes {

  private static final long CHECK_TIMEOUT_MS = 2000;
  private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private OpsRoutes() {
  }

  /** @param pool the node's shared pool, or null when the database is off */
  static void mount(Vertx vertx, Router router, Metrics metrics, Drain drain, Database database, Pool pool) {
    if (metrics.enabled()) {
      router.get("/metrics").handler(ctx -> scrape(ctx, metrics));
    } else {
      router.get("/metrics").handler(ctx -> ctx.fail(new ServiceError(ServiceError.NOT_FOUND,
        "metrics are off on this node (metrics.enabled=false)", null)));
    }
    router.get("/health/live").handler(HealthCheckHandler.create(vertx)
      .register("process", promise -> promise.complete(Status.OK())));

    HealthCheckHandler ready = HealthCheckHandler.create(vertx)
      .register("accepting", promise -> promise.complete(drain.draining()
        ? Status.KO(new JsonObject().put("reason", "draining: the node is shutting down")) : Status.OK()))
      .register("workers", CHECK_TIMEOUT_MS, promise -> vertx.eventBus()
        .request(Addresses.FIB_COMPUTE, new JsonObject().put("n", 1), new DeliveryOptions().setSendTimeout(CHECK_TIMEOUT_MS))
        .onComplete(ar -> promise.complete(ar.succeeded() ? Status.OK()
          : Status.KO(new JsonObject().put("reason", "fib.compute did not answer: " + ServiceError.from(ar.cause())
          .getMessage())))));
    if (database.enabled()) {
      ready.register("database", CHECK_TIMEOUT_MS, promise -> {
        ServiceError down = database.check();
        if (down != null) {
          promise.complete(Status.KO(new JsonObject().put("reason", down.getMessage())));
          return;
        }
        database.bounded(pool.preparedQuery(Sql.SELECT_ONE).execute()).onComplete(ar -> promise.complete(
          ar.succeeded() ? Status.OK(new JsonObject().put("target", database.target()))
            : Status.KO(new JsonObject().put("reason", Database.failure(ar.cause()).getMessage()))));
      });
    }
    router.get("/health/ready").handler(ready);
  }

  /**
   * The Prometheus text format, or OpenMetrics when the scraper asks for it (Prometheus does): only OpenMetrics carries
   * the histograms' exemplars, the trace ids of requests they counted.
   */
  private static void scrape(RoutingContext ctx, Metrics metrics) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    String type = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : TEXT_FORMAT;
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, type).end(metrics.prometheus().scrape(type));
  }
}
