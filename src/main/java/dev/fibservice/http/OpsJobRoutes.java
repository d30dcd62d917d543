package dev.fibservice.http;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.jobs.Jobs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The jobs as operators see them, on the ops port only: every job, paged and filtered ({@code GET /jobs}), their
 * statistics ({@code GET /jobs/stats}), every job's events as Server-Sent Events ({@code GET /jobs/events}), a job's
 * status, attempts, cancel and retry, and the dashboard page over all of it ({@code GET /jobs/dashboard}). None of it
 * is on the public port, where a job is reached only through its id.
 */
final class OpsJobRoutes {

  private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");
  private static final CharSequence HTML = HttpHeaders.createOptimized("text/html; charset=utf-8");
  private static final String DASHBOARD = "opsroot/jobs.html";
  /** An SSE comment this often keeps a quiet stream open past http.idleTimeoutSeconds (and proxies' timeouts). */
  static final long HEARTBEAT_MS = 15_000;

  private final Vertx vertx;
  private final Jobs jobs;

  private OpsJobRoutes(Vertx vertx, Jobs jobs) {
    this.vertx = vertx;
    this.jobs = jobs;
  }

  /** The routes; with the database off, each answers 503 and why, as the public port's database routes do. */
  static void mount(Vertx vertx, Router router, Database database, Settings settings) {
    if (!database.enabled()) {
      router.routeWithRegex("^/jobs(/.*)?$").handler(ctx -> ctx.fail(database.check()));
      return;
    }
    new OpsJobRoutes(vertx, new Jobs(vertx, database.pool(vertx), database, settings)).mount(router);
  }

  private void mount(Router router) {
    router.get("/jobs").handler(ctx -> JobRoutes.json(ctx, 200, jobs.page(ctx.request().getParam("status"),
      ctx.request().getParam("priority"), ctx.request().getParam("limit"), ctx.request().getParam("cursor"))));
    router.get("/jobs/stats").handler(ctx -> JobRoutes.json(ctx, 200, jobs.stats()));
    router.get("/jobs/events").handler(this::events);
    router.get("/jobs/dashboard").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, HTML)
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").sendFile(DASHBOARD)
      .onFailure(e -> ctx.fail(new ServiceError(500, "the dashboard page is missing from this build", null))));
    router.get("/jobs/:id").handler(ctx -> JobRoutes.json(ctx, 200, jobs.status(ctx.pathParam("id"))));
    router.get("/jobs/:id/attempts").handler(ctx -> JobRoutes.json(ctx, 200, jobs.attempts(ctx.pathParam("id"))));
    router.delete("/jobs/:id").handler(ctx -> JobRoutes.json(ctx, 200, jobs.cancel(ctx.pathParam("id"))));
    router.post("/jobs/:id/retry").handler(ctx -> JobRoutes.json(ctx, 200, jobs.retry(ctx.pathParam("id"))));
  }

  /**
   * Every job's events ({@code jobs.events}) as they happen, one SSE {@code data:} line each, until the client goes.
   * The first line is a comment, sent once the consumer is registered: from then on nothing is missed, so a client
   * that reads the jobs after it sees every change since.
   */
  private void events(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.JOBS_EVENTS, m -> {
      if (!response.closed() && !response.writeQueueFull()) {
        // a slow reader misses events rather than grow this node's memory; the page re-reads the list then
        response.write(Buffer.buffer("data: ").appendBuffer(m.body().toBuffer()).appendString("\n\n"));
      }
    });
    long heartbeat = vertx.setPeriodic(HEARTBEAT_MS, t -> {
      if (!response.closed()) {
        response.write(": heartbeat\n\n");
      }
    });
    response.closeHandler(v -> {
      vertx.cancelTimer(heartbeat);
      consumer.unregister();
    });
    consumer.completion().onComplete(ar -> {
      if (ar.failed()) {
        vertx.cancelTimer(heartbeat);
        ctx.fail(ar.cause());
        return;
      }
      response.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, EVENT_STREAM)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").write(": subscribed\n\n");
    });
  }
}
