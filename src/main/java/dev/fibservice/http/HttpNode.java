package dev.fibservice.http;

import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.Admission;
import dev.fibservice.compute.Results;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.ops.Drain;
import dev.fibservice.ops.Metrics;
import dev.fibservice.stats.NodeStats;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the HTTP front end uses of its node, the same for every HTTP instance.
 *
 * @param info     the node's facts for {@code GET /info}, as they are at the time of the request
 * @param live     the node's live counters for {@code GET /stats}, as they are at the time of the request
 * @param readiness the node's readiness checks, served at {@code /health/ready}
 * @param cluster  this member's view of the cluster, or null when the node runs alone
 * @param eventBus the SockJS event-bus bridge's routes for one HTTP instance (made on its event loop, mounted at
 *                 {@code sockjs.path}), or null when it is off
 * @param results  the node's result cache and the computations identical requests share
 */
public record HttpNode(Settings settings, String name, Supplier<JsonObject> info, Supplier<JsonObject> live,
                       Metrics metrics, NodeStats stats, Drain drain, HealthChecks readiness, Admission admission,
                       Database database, ClusterView cluster, HttpCounters counters, Function<Vertx, Router> eventBus,
                       Results results) {
}
