package dev.fibservice.http;

import dev.fibservice.NodeInfo;
import dev.fibservice.compute.Admission;
import dev.fibservice.config.Settings;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /stats}: this node's live counters as JSON, for the page (not a metrics format). */
final class StatsRoutes {

  private final NodeInfo node;
  private final String instance;

  StatsRoutes(NodeInfo node, String instance) {
    this.node = node;
    this.instance = instance;
  }

  void mount(Router router) {
    router.get("/stats").handler(this::stats);
  }

  private void stats(RoutingContext ctx) {
    Admission admission = Admission.of(ctx.vertx(), node.settings().getInt(Settings.FIB_MAX_IN_FLIGHT));
    JsonObject json = new JsonObject()
      .put("node", node.name())
      .put("servedBy", instance)
      .mergeIn(NodeStats.of(ctx.vertx()).toJson())
      .put("inFlight", new JsonObject()
        .put("light", admission.inFlight(true))
        .put("heavy", admission.inFlight(false))
        .put("maxPerLane", admission.max()));
    ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(json.toBuffer());
  }
}
