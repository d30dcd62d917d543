package dev.fibservice.compute;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Heavy computations on every worker never hold up the small requests. Asserted by order, not time. */
class NeverBlockTest {

  @Test
  void smallRequestsAreAnsweredWhileEveryHeavyWorkerIsBusy() throws Exception {
    FibService service = TestNodes.start(Map.of("fib.heavyWorkers", "2", "instances", "2"));
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(service.httpPort()));
      List<String> finished = new CopyOnWriteArrayList<>();
      List<Future<?>> heavy = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        int id = i;
        heavy.add(client.get("/fib/42?algorithm=recursive").send()
          .onSuccess(r -> {
            assertEquals("267914296", r.bodyAsJsonObject().getString("value"));
            finished.add("heavy-" + id);
          }));
      }
      // wait until both heavy computations run (the heavy lane is full), then ask for small things
      Admission admission = service.node().admission();
      Eventually.within(Duration.ofSeconds(5), () -> admission.inFlight() >= 2);
      assertEquals(2, admission.inFlight(), "both heavy computations should be running");
      client.get("/hello").send().onSuccess(r -> finished.add("hello")).await();
      client.get("/fib/10").send().onSuccess(r -> {
        assertEquals("55", r.bodyAsJsonObject().getString("value"));
        finished.add("fib10");
      }).await();
      client.get("/fib/20?algorithm=recursive").send().onSuccess(r -> finished.add("fib20rec")).await();
      Future.all(heavy).await();
      assertEquals(List.of("hello", "fib10", "fib20rec"), finished.subList(0, 3), finished.toString());
      assertTrue(finished.containsAll(List.of("heavy-0", "heavy-1")));
    } finally {
      vertx.close().await();
      TestNodes.stop(service);
    }
  }
}
