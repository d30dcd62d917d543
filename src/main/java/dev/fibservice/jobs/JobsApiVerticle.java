package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.ops.Traces;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * The jobs API on the event bus, for other services: {@code jobs.submit} (with an {@code idempotency-key} header, as
 * HTTP's Idempotency-Key), {@code jobs.status}, {@code jobs.cancel} and {@code jobs.retry}; with the database off or
 * down they answer 503 and why.
 */
public final class JobsApiVerticle extends VerticleBase {

  /** The header of a {@code jobs.submit} that makes it idempotent, as HTTP's Idempotency-Key. */
  public static final String IDEMPOTENCY_KEY_HEADER = "idempotency-key";

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
      vertx.eventBus().consumer(Addresses.JOBS_SUBMIT, m -> answer(m, jobs.submit(m.body(),
        m.headers().get(IDEMPOTENCY_KEY_HEADER), Traces.currentTraceparent()).map(Jobs.Submitted::job))).completion(),
      vertx.eventBus().consumer(Addresses.JOBS_STATUS, m -> byId(m, jobs::status)).completion(),
      vertx.eventBus().consumer(Addresses.JOBS_CANCEL, m -> byId(m, jobs::cancel)).completion(),
      vertx.eventBus().consumer(Addresses.JOBS_RETRY, m -> byId(m, jobs::retry)).completion());
  }

  /** A request whose body names a job: {"id":"..."}. */
  private static void byId(Message<Object> m, Function<String, Future<JsonObject>> call) {
    answer(m, m.body() instanceof JsonObject body && body.getValue("id") instanceof String id ? call.apply(id)
      : Future.failedFuture(ServiceError.badRequest("body must be a JSON object like {\"id\":\"...\"}", null)));
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
