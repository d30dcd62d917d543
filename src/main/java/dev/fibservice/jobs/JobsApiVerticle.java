package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

/**
 * The jobs API on the event bus, for other services: {@code jobs.submit} and {@code jobs.status}; with
 * the database off or down they answer 503 and why.
 */
public final class JobsApiVerticle extends VerticleBase {

  private final Settings settings;
  private final Database database;
  private Jobs jobs;

  public JobsApiVerticle(Settings settings, Database database) {
    this.settings = settings;
    this.database = database;
  }

  @Override
  public Future<?> start() {
    // with the database off there is no pool: every call fails with 503 and the reason before needing one
    jobs = new Jobs(vertx, database.enabled() ? database.pool(vertx) : null, database, settings);
    return Future.join(
      vertx.eventBus().consumer(Addresses.JOBS_SUBMIT, m -> answer(m, jobs.submit(m.body()))).completion(),
      vertx.eventBus().consumer(Addresses.JOBS_STATUS, m -> answer(m, m.body() instanceof JsonObject body
        && body.getValue("id") instanceof String id ? jobs.status(id)
        : Future.failedFuture(ServiceError.badRequest("body must be a JSON object like {\"id\":\"...\"}", null))))
        .completion());
  }

  private static void answer(Message<Object> message, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        ServiceError e = ServiceError.from(ar.cause());
        message.fail(e.status(), e.getMessage());
      }
    });
  }
}
