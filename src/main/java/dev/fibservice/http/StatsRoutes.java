package dev.fibservice.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Supplier;

/** {@code GET /stats}: this node's live counters as JSON, for the page (not a metrics format). */
final class StatsRoutes {

  private final String instance;
  private final Supplier<JsonObject> live;

  /** @param instance the HTTP instance's name; {@code live} the node's counters */
  StatsRoutes(String instance, Supplier<JsonObject> live) {
    this.instance = instance;
    this.live = live;
  }

  void mount(Router router) {
    router.get("/stats").handler(this::stats);
  }

  private void stats(RoutingContext ctx) {
    JsonObject json = live.get().put("servedBy", instance);
    ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(json.toBuffer());
  }
}
