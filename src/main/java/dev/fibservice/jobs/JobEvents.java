package dev.fibservice.jobs;

import dev.fibservice.api.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * The events of jobs, published on the event bus (cluster-wide) by whichever member changes a job: on the job's own
 * address, {@code jobs.events.<id>}, and on the operators' {@code jobs.events}. An event says what changed; the job's
 * full JSON is one {@code jobs.status} (or {@code GET /jobs/{id}}) away.
 */
public final class JobEvents {

  private JobEvents() {
  }

  /** A change of status: {@code {"id","status",...more}}. */
  public static void status(Vertx vertx, String id, String status, JsonObject more) {
    JsonObject event = new JsonObject().put("id", id).put("status", status);
    if (more != null) {
      event.mergeIn(more);
    }
    publish(vertx, id, event);
  }

  /** How far a RUNNING job's computation is: {@code {"id","status":"RUNNING","attempt","progress":0..1}}. */
  public static void progress(Vertx vertx, String id, int attempt, double progress) {
    publish(vertx, id, new JsonObject().put("id", id).put("status", "RUNNING").put("attempt", attempt)
      .put("progress", progress));
  }

  private static void publish(Vertx vertx, String id, JsonObject event) {
    vertx.eventBus().publish(Addresses.jobEvents(id), event);
    vertx.eventBus().publish(Addresses.JOBS_EVENTS, event);
  }
}
