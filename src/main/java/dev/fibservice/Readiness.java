package dev.fibservice;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.ServiceError;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.Sql;
import dev.fibservice.ops.Drain;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.sqlclient.Pool;

/**
 * Whether this node should be sent work: the one answer {@code /health/ready} gives (on the HTTP and the ops port),
 * made of named checks, each one input, each with its reason when it says no:
 * <ul>
 *   <li>{@code accepting}: not draining (a stop began: readiness goes false first);</li>
 *   <li>{@code warmup}: the start's warm-ups have ended, or {@code fib.warmupWaitMs} has passed (ready means warm);</li>
 *   <li>{@code workers}: {@code fib.compute} answers (this node's gateway, or in a cluster a worker member's);</li>
 *   <li>{@code database}: when the database features are on, it is migrated and answers;</li>
 *   <li>{@code cluster}: in a cluster, Hazelcast's partitions are safe ({@code isClusterSafe}): it gates a member's
 *       first readiness only, so that a member joins a settled cluster; afterwards it reports ({@code "safe"}) without
 *       gating, or a migration, or one member's partition, would take every front out of its load balancer at once.
 *       Whoever replaces members one by one reads {@code "safe"} before each step.</li>
 * </ul>
 */
public final class Readiness {

  public static final String ACCEPTING = "accepting";
  public static final String WARMUP = "warmup";
  public static final String WORKERS = "workers";
  public static final String DATABASE = "database";
  public static final String CLUSTER = "cluster";
  private static final long CHECK_TIMEOUT_MS = 2000;

  private final HealthChecks checks;
  private final Promise<Boolean> warmed = Promise.promise();
  private final long warmupWaitMs;
  /** Whether the cluster has been safe once since this member joined: from then on its check only reports. */
  private volatile boolean settled;

  private Readiness(Vertx vertx, Settings settings, Drain drain, Database database, ClusterView cluster) {
    this.checks = HealthChecks.create(vertx);
    this.warmupWaitMs = settings.getInt(Settings.FIB_WARMUP_WAIT_MS);
    checks.register(ACCEPTING, promise -> promise.complete(drain.draining()
      ? Status.KO(reason("draining: the node is shutting down")) : Status.OK()));
    checks.register(WARMUP, this::warmup);
    checks.register(WORKERS, CHECK_TIMEOUT_MS, promise -> vertx.eventBus()
      .request(Addresses.FIB_COMPUTE, new JsonObject().put("n", 1), new DeliveryOptions().setSendTimeout(CHECK_TIMEOUT_MS))
      .onComplete(ar -> promise.complete(ar.succeeded() ? Status.OK()
        : Status.KO(reason("fib.compute did not answer: " + ServiceError.from(ar.cause()).getMessage())))));
    if (database.enabled()) {
      Pool pool = database.pool(vertx);
      checks.register(DATABASE, CHECK_TIMEOUT_MS, promise -> {
        ServiceError down = database.check();
        if (down != null) {
          promise.complete(Status.KO(reason(down.getMessage())));
          return;
        }
        database.bounded(pool.preparedQuery(Sql.SELECT_ONE).execute()).onComplete(ar -> promise.complete(
          ar.succeeded() ? Status.OK(new JsonObject().put("target", database.target()))
            : Status.KO(reason(Database.failure(ar.cause()).getMessage()))));
      });
    }
    if (cluster != null) {
      checks.register(CLUSTER, CHECK_TIMEOUT_MS, promise -> cluster.safe(vertx).onComplete(ar -> {
        boolean safe = ar.succeeded() && ar.result();
        settled |= safe;
        JsonObject data = new JsonObject().put("safe", safe).put("members", cluster.size());
        if (safe) {
          promise.complete(Status.OK(data));
        } else if (settled) {
          promise.complete(Status.OK(data.put("note", "partitions are migrating (a member joined or left): wait before"
            + " stopping another member")));
        } else {
          promise.complete(Status.KO(data.put("reason", "joining: the cluster's partitions are not safe yet ("
            + (ar.succeeded() ? "migrating" : ar.cause().getMessage()) + ")")));
        }
      }));
    }
  }

  /** The checks of this node: its Vert.x, its drain, its database and, in a cluster, its view of the cluster. */
  static Readiness create(Vertx vertx, Settings settings, Drain drain, Database database, ClusterView cluster) {
    return new Readiness(vertx, settings, drain, database, cluster);
  }

  /** What {@code /health/ready} serves. */
  public HealthChecks checks() {
    return checks;
  }

  /**
   * The start's warm-ups are over: {@code finished} when they ended, false when {@code fib.warmupWaitMs} passed first
   * (they go on in the background) or there were none to wait for.
   */
  void warmed(boolean finished) {
    warmed.tryComplete(finished);
  }

  private void warmup(Promise<Status> promise) {
    if (!warmed.future().isComplete()) {
      promise.complete(Status.KO(reason("warming up: the first large requests would find the engine cold; ready once"
        + " the warm-ups end, at most fib.warmupWaitMs = " + warmupWaitMs + " ms after the start")));
    } else {
      promise.complete(Status.OK(new JsonObject().put("finished", warmed.future().result())));
    }
  }

  private static JsonObject reason(String why) {
    return new JsonObject().put("reason", why);
  }
}
