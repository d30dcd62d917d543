package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.ops.Metrics;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * What operators look at: {@code /metrics} (Prometheus text), {@code /health/live} (the process runs) and
 * {@code /health/ready} (the node's readiness: its named checks, see the root package's Readiness), in the
 * vertx-health-check JSON format, 200 or 503, each check with its reason.
 */
final class OpsRoutes {

  private OpsRoutes() {
  }

  static void mount(Vertx vertx, Router router, Metrics metrics, HealthChecks readiness) {
    if (metrics.enabled()) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics.prometheus()));
    } else {
      router.get("/metrics").handler(ctx -> ctx.fail(new ServiceError(ServiceError.NOT_FOUND,
        "metrics are off on this node (metrics.enabled=false)", null)));
    }
    router.get("/health/live").handler(HealthCheckHandler.create(vertx)
      .register("process", promise -> promise.complete(Status.OK())));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
  }
}
