package dev.fibservice.http;

import dev.fibservice.compute.Admission;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /stats}: this node's live counters as JSON, for the page (not a metrics format). */
final class StatsRoutes {

  private final String node;
  private final String instance;
  private final NodeStats stats;
  private final Admission admission;

  /** @param node the node's name; {@code instance} the HTTP instance's */
  StatsRoutes(String node, String instance, NodeStats stats, Admission admission) {
    this.node = node;
    this.instance = instance;
    this.stats = stats;
    this.admission = admission;
  }

  void mount(Router router) {
    router.get("/stats").handler(this::stats);
  }

  private void stats(RoutingContext ctx) {
    JsonObject json = new JsonObject()
      .put("node", node)
      .put("servedBy", instance)
      .mergeIn(stats.toJson())
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
