package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

/**
 * What operators look at: {@code /metrics} (Prometheus text), {@code /health/live} (the process runs) and
 * {@code /health/ready} (the node's readiness: its named checks, see the root package's Readiness), in the
 * vertx-health-check JSON format, 200 or 503, each check with its reason.
 */
final class OpsRoutes {

  private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private OpsRoutes() {
  }

  static void mount(Vertx vertx, Router router, Metrics metrics, HealthChecks readiness) {
    if (metrics.enabled()) {
      router.get("/metrics").handler(ctx -> scrape(ctx, metrics));
    } else {
      router.get("/metrics").handler(ctx -> ctx.fail(new ServiceError(ServiceError.NOT_FOUND,
        "metrics are off on this node (metrics.enabled=false)", null)));
    }
    router.get("/health/live").handler(HealthCheckHandler.create(vertx)
      .register("process", promise -> promise.complete(Status.OK())));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
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
