package dev.fibservice.http;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up warm-up of a big result's way out: real exchanges on a server of its own, none on the node's. */
class BigResponseWarmupTest {

  @Test
  void runsItsExchangesOverItsOwnServer() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      int rounds = BigResponseWarmup.run(vertx).await(120, TimeUnit.SECONDS); // hang guard only
      assertEquals(BigResponseWarmup.ROUNDS, rounds, "every exchange got its whole body");
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aNodeRunsItUnlessTurnedOffAndItLeavesNoTraceInTheCounters() throws Exception {
    FibService off = TestNodes.start(Map.of("fib.warmup", "false"));
    try {
      assertNull(off.responseWarmup(), "fib.warmup=false: no warm-up");
    } finally {
      TestNodes.stop(off);
    }
    FibService on = TestNodes.start(Map.of("fib.warmup", "true"));
    Vertx vertx = Vertx.vertx();
    try {
      assertEquals(BigResponseWarmup.ROUNDS, on.responseWarmup().await(120, TimeUnit.SECONDS));
      HttpClient client = vertx.createHttpClient();
      JsonObject stats = client.request(HttpMethod.GET, on.httpPort(), "127.0.0.1", "/stats")
        .compose(r -> r.send()).compose(r -> r.body()).await(30, TimeUnit.SECONDS).toJsonObject();
      long requests = 0;
      for (Object h : stats.getJsonArray("http")) {
        requests += ((JsonObject) h).getLong("requests");
      }
      assertEquals(1, requests, "only this /stats request reached the node's HTTP: " + stats.encode());
      for (Object w : stats.getJsonArray("workers")) {
        assertEquals(0, ((JsonObject) w).getLong("computations"), "no worker computed for it: " + stats.encode());
      }
      String metrics = client.request(HttpMethod.GET, on.httpPort(), "127.0.0.1", "/metrics")
        .compose(r -> r.send()).compose(r -> r.body()).await(30, TimeUnit.SECONDS).toString();
      assertFalse(metrics.contains("route=\"/fib/:n\""), "no /fib request in the node's metrics");
    } finally {
      vertx.close().await();
      TestNodes.stop(on);
    }
  }
}
